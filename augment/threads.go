package augment

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: -std=c++11
#include "threads.h"
*/
import "C"

// SetOpenCVThreads sets how many threads OpenCV's parallel loops (warpAffine,
// resize, the blurs) may use, process-wide: 1 runs them on the calling
// thread, which suits one goroutine per core and single-threaded timing; 0
// or less restores OpenCV's default. gocv 0.31 lacks cv::setNumThreads, and
// Debian's TBB build ignores OPENCV_FOR_THREADS_NUM.
func SetOpenCVThreads(n int) {
	if n <= 0 {
		n = -1
	}
	C.augment_set_num_threads(C.int(n))
}

// OpenCVThreads returns the number of threads OpenCV's parallel loops use.
func OpenCVThreads() int { return int(C.augment_get_num_threads()) }
