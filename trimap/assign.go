package trimap

// windowKernel is the inner loop of the SLIC assignment step: for every
// pixel (x, y) of the window [x1,x2) x [y1,y2) it computes
//
//	d = dl² + da² + db² + (dx² + dy²)·m²/S²
//
// (Achanta's D squared; the square root does not change the order) and,
// where d is below dist[p], stores d in dist[p] and k in labels[p]. The
// caller passes the x part xw[i] = (fx·fx)·wt for fx = (x1 - cx) + i and
// wt = m²/S², which is the same on every row.
//
// All kernels evaluate the same float32 operations in the same order,
// without fused multiply-adds, so they give identical bits:
//
//	dy = y - cy
//	d  = (((dl·dl + da·da) + db·db) + xw[x-x1]) + (dy·dy)·wt
type windowKernel func(lab *Lab, dist []float32, labels []int32, x1, x2, y1, y2 int, c *centre, wt float32, k int32, xw []float32)

// spatialX fills xw[:n] with the x part of the distance of a window that
// starts fx0 = x1 - cx from the centre.
func spatialX(xw []float32, n int, fx0, wt float32) []float32 {
	xw = xw[:n]
	for i := range xw {
		fx := fx0 + float32(i)
		xw[i] = float32(fx*fx) * wt
	}
	return xw
}

// assignWindowGeneric is the portable kernel.
func assignWindowGeneric(lab *Lab, dist []float32, labels []int32, x1, x2, y1, y2 int, c *centre, wt float32, k int32, xw []float32) {
	w := lab.W
	for y := y1; y < y2; y++ {
		dy := float32(y) - c.y
		dyw := float32(dy*dy) * wt
		r, e := y*w+x1, y*w+x2
		assignRow(lab.L[r:e], lab.A[r:e], lab.B[r:e], dist[r:e], labels[r:e], xw, c.l, c.a, c.b, dyw, k)
	}
}

// assignRow runs the portable kernel over one window row.
func assignRow(L, A, B, D []float32, lbl []int32, xw []float32, cl, ca, cb, dyw float32, k int32) {
	A = A[:len(L)]
	B = B[:len(L)]
	D = D[:len(L)]
	lbl = lbl[:len(L)]
	xw = xw[:len(L)]
	for i := range L {
		dl := L[i] - cl
		da := A[i] - ca
		db := B[i] - cb
		c := float32(float32(dl*dl)+float32(da*da)) + float32(db*db)
		d := float32(c+xw[i]) + dyw
		if d < D[i] {
			D[i] = d
			lbl[i] = k
		}
	}
}
