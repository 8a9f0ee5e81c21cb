package composite

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Harmonize moves the Lab mean and standard deviation of the foreground
// layer f (within rect, weighted by alpha a) toward those of bg by strength
// s in 0..1: Reinhard-style colour transfer, so a pasted subject picks up
// the scene's cast and contrast instead of looking lit elsewhere. f is
// 8-bit BGR and is changed in place (pixels where a is 0 are left alone);
// a is 8UC1 the size of f; bg is 8-bit BGR of any size. apply's replace
// effect shares it.
func Harmonize(f, a, bg gocv.Mat, rect image.Rectangle, s float64) {
	var bgMean, bgStd [3]float64
	{
		// Scene statistics barely change with resolution; a thumbnail is
		// enough and much cheaper to convert.
		small := gocv.NewMat()
		defer small.Close()
		k := math.Min(1, 128/float64(max(bg.Cols(), bg.Rows())))
		gocv.Resize(bg, &small, image.Pt(max(1, int(float64(bg.Cols())*k)), max(1, int(float64(bg.Rows())*k))), 0, 0, gocv.InterpolationArea)
		lab := toLab(small)
		defer lab.Close()
		d, _ := lab.DataPtrFloat32()
		bgMean, bgStd = labStats(d, nil)
	}
	fr := f.Region(rect)
	defer fr.Close()
	ar := a.Region(rect)
	defer ar.Close()
	ac := ar.Clone() // continuous
	defer ac.Close()
	w, _ := ac.DataPtrUint8()
	lab := toLab(fr)
	defer lab.Close()
	d, _ := lab.DataPtrFloat32()
	mean, std := labStats(d, w)
	var gain, off [3]float32
	for c := range 3 {
		tm := mean[c] + s*(bgMean[c]-mean[c])
		ts := std[c] + s*(bgStd[c]-std[c])
		g := 1.0
		if std[c] > 1e-3 {
			g = ts / std[c]
		}
		gain[c], off[c] = float32(g), float32(tm-g*mean[c])
	}
	for p, av := range w {
		if av == 0 {
			continue // keep F zero where there is no foreground
		}
		i := 3 * p
		d[i] = d[i]*gain[0] + off[0]
		d[i+1] = d[i+1]*gain[1] + off[1]
		d[i+2] = d[i+2]*gain[2] + off[2]
	}
	gocv.CvtColor(lab, &lab, gocv.ColorLabToBGR)
	out := gocv.NewMat()
	defer out.Close()
	lab.ConvertToWithParams(&out, gocv.MatTypeCV8UC3, 255, 0)
	out.CopyTo(&fr) // writes through into f
}

// toLab converts 8-bit BGR to float Lab (L 0..100): float keeps the
// statistics free of 8-bit Lab's quantisation.
func toLab(m gocv.Mat) gocv.Mat {
	lab := gocv.NewMat()
	m.ConvertToWithParams(&lab, gocv.MatTypeCV32FC3, 1.0/255, 0)
	gocv.CvtColor(lab, &lab, gocv.ColorBGRToLab)
	return lab
}

// labStats returns per-channel mean and standard deviation of interleaved
// Lab data, weighted by w (nil: equal weights).
func labStats(d []float32, w []uint8) (mean, std [3]float64) {
	var sum, sq [3]float64
	var tot float64
	for p := 0; p < len(d)/3; p++ {
		wt := 1.0
		if w != nil {
			if w[p] == 0 {
				continue
			}
			wt = float64(w[p])
		}
		tot += wt
		for c := range 3 {
			v := float64(d[3*p+c])
			sum[c] += wt * v
			sq[c] += wt * v * v
		}
	}
	if tot == 0 {
		return mean, std
	}
	for c := range 3 {
		mean[c] = sum[c] / tot
		std[c] = math.Sqrt(math.Max(0, sq[c]/tot-mean[c]*mean[c]))
	}
	return mean, std
}
