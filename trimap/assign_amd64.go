package trimap

// cpuid and xgetbv are in assign_amd64.s.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// hasAVX2 reports whether the CPU and the OS support AVX2.
func hasAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state enabled by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// assignWindowAVX2 is in assign_amd64.s: the kernel over rows rows of n
// pixels, stride pixels apart, the first at row y0.
//
//go:noescape
func assignWindowAVX2(L, A, B, D *float32, lbl *int32, xw *float32, stride, rows, n, y0 int, cl, ca, cb, cy, wt float32, k int32)

// assignWindowFast is the AVX2 kernel, eight pixels at a time.
func assignWindowFast(lab *Lab, dist []float32, labels []int32, x1, x2, y1, y2 int, c *centre, wt float32, k int32, xw []float32) {
	w := lab.W
	o := y1*w + x1
	last := (y2-1)*w + x2 - 1 // bounds checks for the whole window
	_, _, _, _, _, _ = lab.L[last], lab.A[last], lab.B[last], dist[last], labels[last], xw[x2-x1-1]
	assignWindowAVX2(&lab.L[o], &lab.A[o], &lab.B[o], &dist[o], &labels[o], &xw[0], w, y2-y1, x2-x1, y1,
		c.l, c.a, c.b, c.y, wt, k)
}

// bestKernel returns the fastest kernel the CPU runs.
func bestKernel() windowKernel {
	if hasAVX2() {
		return assignWindowFast
	}
	return assignWindowGeneric
}
