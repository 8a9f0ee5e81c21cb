package apply

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// GuidedFilter filters p (one float32 per pixel, w x h) with the colour
// guided filter of He, Sun & Tang ("Guided Image Filtering", ECCV 2010,
// section 3.3 and algorithm 1; TPAMI 35(6) 2013, eqs. 19-21), guided by the
// 8-bit BGR image guide scaled to [0, 1]:
//
//	a_k = (Σ_k + εU)⁻¹ (mean_k(I·p) − μ_k·p̄_k)   (3-vector per window k)
//	b_k = p̄_k − a_kᵀ μ_k
//	q_i = mean_i(a)ᵀ I_i + mean_i(b)
//
// over square windows of side 2r+1. Means are OpenCV's normalised box
// filter (BORDER_REFLECT_101 at the image border, where the reference
// MATLAB code averages only the pixels inside the image). The output
// follows the guide's edges: where p is an affine function of the colour
// in a window, q reproduces it (exactly as ε → 0), which is what lets a
// coarse mask snap to hair and shoulders. gocv has no ximgproc binding,
// so it is written with BoxFilter and plane loops.
//
// Only the rectangle rect of the result is computed (pixels outside it are
// copied from p); the filter reads the guide up to 2r+1 pixels around it,
// so the values inside rect equal those of a whole-image run (up to float
// rounding in the box filters' running sums).
func GuidedFilter(guide gocv.Mat, p []float32, r int, eps float64, rect image.Rectangle) ([]float32, error) {
	w, h, err := checkPlanes(guide, p)
	if err != nil {
		return nil, err
	}
	if r < 1 || !(eps >= 0) {
		return nil, fmt.Errorf("guided filter: radius %d, eps %g: want r >= 1, eps >= 0", r, eps)
	}
	q := append([]float32(nil), p...)
	rect = rect.Intersect(image.Rect(0, 0, w, h))
	if rect.Empty() {
		return q, nil
	}
	// The working window: rect grown by 2r+1, so every window that feeds
	// a pixel of rect lies inside it or meets the image border as the
	// whole-image run would.
	work := rect.Inset(-(2*r + 1)).Intersect(image.Rect(0, 0, w, h))
	ww, wh := work.Dx(), work.Dy()
	n := ww * wh
	gb := bgrBytes(guide)

	// Planes of the working window: I (3 interleaved), p, I·p (3), and
	// the six distinct products of the symmetric I·Iᵀ in two 3-channel
	// planes: (bb, bg, br) and (gg, gr, rr).
	iM := gocv.NewMatWithSize(wh, ww, gocv.MatTypeCV32FC3)
	defer iM.Close()
	pM := gocv.NewMatWithSize(wh, ww, gocv.MatTypeCV32FC1)
	defer pM.Close()
	ipM := gocv.NewMatWithSize(wh, ww, gocv.MatTypeCV32FC3)
	defer ipM.Close()
	ii1 := gocv.NewMatWithSize(wh, ww, gocv.MatTypeCV32FC3)
	defer ii1.Close()
	ii2 := gocv.NewMatWithSize(wh, ww, gocv.MatTypeCV32FC3)
	defer ii2.Close()
	ip, _ := iM.DataPtrFloat32()
	pp, _ := pM.DataPtrFloat32()
	ipp, _ := ipM.DataPtrFloat32()
	a1, _ := ii1.DataPtrFloat32()
	a2, _ := ii2.DataPtrFloat32()
	const inv255 = 1.0 / 255
	for y := range wh {
		for x := range ww {
			k := y*ww + x
			src := (work.Min.Y+y)*w + work.Min.X + x
			b, g, rr := float32(gb[3*src])*inv255, float32(gb[3*src+1])*inv255, float32(gb[3*src+2])*inv255
			v := p[src]
			ip[3*k], ip[3*k+1], ip[3*k+2] = b, g, rr
			pp[k] = v
			ipp[3*k], ipp[3*k+1], ipp[3*k+2] = b*v, g*v, rr*v
			a1[3*k], a1[3*k+1], a1[3*k+2] = b*b, b*g, b*rr
			a2[3*k], a2[3*k+1], a2[3*k+2] = g*g, g*rr, rr*rr
		}
	}
	ks := image.Pt(2*r+1, 2*r+1)
	box := func(m gocv.Mat) gocv.Mat {
		out := gocv.NewMat()
		gocv.BoxFilter(m, &out, -1, ks)
		return out
	}
	mI, mP, mIP, mII1, mII2 := box(iM), box(pM), box(ipM), box(ii1), box(ii2)
	defer mI.Close()
	defer mP.Close()
	defer mIP.Close()
	defer mII1.Close()
	defer mII2.Close()
	mi, _ := mI.DataPtrFloat32()
	mp, _ := mP.DataPtrFloat32()
	mip, _ := mIP.DataPtrFloat32()
	m1, _ := mII1.DataPtrFloat32()
	m2, _ := mII2.DataPtrFloat32()
	if len(mi) != 3*n || len(mp) != n || len(m2) != 3*n {
		return nil, fmt.Errorf("guided filter: box filter gave planes of the wrong size")
	}

	// a and b per window, into the planes of iM and pM (no longer needed).
	aM, bM := iM, pM
	ap, bp := ip, pp
	e := float32(eps)
	for k := range n {
		mb, mg, mr := mi[3*k], mi[3*k+1], mi[3*k+2]
		mpk := mp[k]
		// Covariance of I with p, and the regularised covariance of I.
		cb := mip[3*k] - mb*mpk
		cg := mip[3*k+1] - mg*mpk
		cr := mip[3*k+2] - mr*mpk
		sbb := m1[3*k] - mb*mb + e
		sbg := m1[3*k+1] - mb*mg
		sbr := m1[3*k+2] - mb*mr
		sgg := m2[3*k] - mg*mg + e
		sgr := m2[3*k+1] - mg*mr
		srr := m2[3*k+2] - mr*mr + e
		// Inverse of the symmetric 3x3 matrix by cofactors.
		i00 := sgg*srr - sgr*sgr
		i01 := sbr*sgr - sbg*srr
		i02 := sbg*sgr - sbr*sgg
		i11 := sbb*srr - sbr*sbr
		i12 := sbr*sbg - sbb*sgr
		i22 := sbb*sgg - sbg*sbg
		det := sbb*i00 + sbg*i01 + sbr*i02
		var ab, ag, ar float32
		if det > 1e-12 || det < -1e-12 {
			inv := 1 / det
			ab = (i00*cb + i01*cg + i02*cr) * inv
			ag = (i01*cb + i11*cg + i12*cr) * inv
			ar = (i02*cb + i12*cg + i22*cr) * inv
		}
		ap[3*k], ap[3*k+1], ap[3*k+2] = ab, ag, ar
		bp[k] = mpk - ab*mb - ag*mg - ar*mr
	}
	mA, mB := box(aM), box(bM)
	defer mA.Close()
	defer mB.Close()
	ma, _ := mA.DataPtrFloat32()
	mb, _ := mB.DataPtrFloat32()
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			k := (y-work.Min.Y)*ww + x - work.Min.X
			src := y*w + x
			q[src] = ma[3*k]*float32(gb[3*src])*inv255 + ma[3*k+1]*float32(gb[3*src+1])*inv255 +
				ma[3*k+2]*float32(gb[3*src+2])*inv255 + mb[k]
		}
	}
	return q, nil
}
