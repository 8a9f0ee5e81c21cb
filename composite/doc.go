// Package composite makes synthetic matting data: foreground cut-outs
// composited over background images, giving (image, alpha, mask) triples,
// and optionally the F and B layers, in unlimited number. It owns decoding
// and checking the inputs, the per-foreground × per-background plan, the
// placement and background-fit rules, the blend, optional realism
// (harmonisation, background blur, noise), a record of every draw for the
// manifest, and a contact sheet. Reading and writing files and running
// workers are the caller's (jobs.Composite). Over, the code base's one
// alpha blend, lives here too: synth and apply blend with it.
//
// The blend is I = a·F + (1 − a)·B per pixel, in float, rounded once; with
// a second foreground, alpha = 1 − (1 − a1)(1 − a2). Every draw is a pure
// function of (seed, foreground ID, composite index): the same seed gives
// the same bytes whatever the number of workers.
//
// F is only known exactly for real cut-outs (RGBA files). When a
// foreground comes as an image plus a separate alpha, F is taken to be the
// image itself (F ≈ I). That holds where alpha is 1 but not in soft edges
// such as hair, where I already mixes in the original background: the
// composite then carries a faint fringe of the old background's colour,
// and the F layer is only an approximation there.
//
// The Composition1k preset follows the Composition-1k benchmark of Xu et
// al. 2017 ("Deep Image Matting", CVPR): each test foreground over 20
// backgrounds, scaled up only when smaller than the foreground and cropped
// at the top left.
//
// Mats returned (Result, ContactSheet) and values loaded (Foreground,
// Background) hold C memory: Close them.
package composite
