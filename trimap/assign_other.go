//go:build !amd64

package trimap

func bestKernel() windowKernel { return assignWindowGeneric }
