// Package cvguard calls the OpenCV functions that can throw on data
// (decode, encode, resize) so that a C++ exception comes back as a Go
// error: gocv 0.31's C wrappers catch none, and an exception escaping
// through cgo aborts the process.
package cvguard

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: -std=c++11
#include <stdlib.h>
#include "cvguard.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"math"
	"unsafe"

	"gocv.io/x/gocv"
)

// ErrOpenCV marks an exception OpenCV threw on data (an assertion, an
// allocation it could not make); the message follows it.
var ErrOpenCV = errors.New("OpenCV refused the data")

// cvError turns a guard's message into an error, freeing it.
func cvError(msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return fmt.Errorf("%w: %s", ErrOpenCV, C.GoString(msg))
}

// IMDecode is gocv.IMDecode with OpenCV's exceptions returned as errors
// rather than aborting the process. It decodes straight into the Mat it
// returns, without gocv's copy of b. It reads no header first: untrusted
// bytes go through dataset.Decoder, which calls it after its header check. An
// unreadable file is an empty Mat and no error, as with gocv.
func IMDecode(b []byte, flags gocv.IMReadFlag) (gocv.Mat, error) {
	if len(b) == 0 || len(b) > math.MaxInt32 {
		return gocv.NewMat(), nil
	}
	m := gocv.NewMat()
	if err := cvError(C.cvguard_imdecode((*C.uchar)(unsafe.Pointer(&b[0])), C.size_t(len(b)), C.int(flags), unsafe.Pointer(m.Ptr()))); err != nil {
		m.Close()
		return gocv.Mat{}, err
	}
	return m, nil
}

// IMEncode is gocv.IMEncodeWithParams with OpenCV's exceptions returned as
// errors; the bytes are Go's.
func IMEncode(ext gocv.FileExt, m gocv.Mat, params []int) ([]byte, error) {
	cext := C.CString(string(ext))
	defer C.free(unsafe.Pointer(cext))
	cparams := make([]C.int, len(params)+1) // +1: never a nil pointer
	for i, p := range params {
		cparams[i] = C.int(p)
	}
	var out *C.uchar
	var n C.size_t
	if err := cvError(C.cvguard_imencode(cext, unsafe.Pointer(m.Ptr()), &cparams[0], C.int(len(params)), &out, &n)); err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}

// Resize is gocv.Resize to an exact size with OpenCV's exceptions (an
// empty source, a size of zero, an allocation that fails) returned as
// errors.
func Resize(src gocv.Mat, dst *gocv.Mat, size image.Point, interp gocv.InterpolationFlags) error {
	if size.X <= 0 || size.Y <= 0 {
		return fmt.Errorf("%w: resize to %dx%d", ErrOpenCV, size.X, size.Y)
	}
	return cvError(C.cvguard_resize(unsafe.Pointer(src.Ptr()), unsafe.Pointer(dst.Ptr()), C.int(size.X), C.int(size.Y), C.int(interp)))
}
