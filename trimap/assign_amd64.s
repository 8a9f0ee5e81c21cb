#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func assignWindowAVX2(L, A, B, D *float32, lbl *int32, xw *float32, stride, rows, n, y0 int, cl, ca, cb, cy, wt float32, k int32)
//
// For each of rows rows (y = y0, y0+1, ...) and each pixel i < n of the
// row, in the order of assignRow:
//   dyw = ((y - cy)*(y - cy))*wt,
//   d = (((dl*dl + da*da) + db*db) + xw[i]) + dyw;
//   where d < D[i]: D[i] = d, lbl[i] = k.
// Eight pixels at a time, then one at a time for the last n%8.
TEXT ·assignWindowAVX2(SB), NOSPLIT, $0-104
	MOVQ L+0(FP), SI
	MOVQ A+8(FP), DI
	MOVQ B+16(FP), R8
	MOVQ D+24(FP), R9
	MOVQ lbl+32(FP), R10
	MOVQ xw+40(FP), R13
	MOVQ stride+48(FP), R11
	SHLQ $2, R11
	MOVQ rows+56(FP), BX
	MOVQ n+64(FP), CX
	MOVQ CX, DX
	ANDQ $-8, DX
	MOVQ y0+72(FP), R12
	VBROADCASTSS cl+80(FP), Y0
	VBROADCASTSS ca+84(FP), Y1
	VBROADCASTSS cb+88(FP), Y2
	VBROADCASTSS wt+96(FP), Y5
	MOVL k+100(FP), R14
	VMOVD R14, X6
	VPBROADCASTD X6, Y6

rowloop:
	CMPQ BX, $0
	JLE  done
	VCVTSI2SSQ R12, X9, X9
	VSUBSS cy+92(FP), X9, X9
	VMULSS X9, X9, X9
	VMULSS X5, X9, X9
	VBROADCASTSS X9, Y4
	XORQ AX, AX

vecloop:
	CMPQ AX, DX
	JGE  tail
	VMOVUPS (SI)(AX*4), Y9
	VSUBPS  Y0, Y9, Y9
	VMULPS  Y9, Y9, Y9
	VMOVUPS (DI)(AX*4), Y10
	VSUBPS  Y1, Y10, Y10
	VMULPS  Y10, Y10, Y10
	VADDPS  Y10, Y9, Y9
	VMOVUPS (R8)(AX*4), Y10
	VSUBPS  Y2, Y10, Y10
	VMULPS  Y10, Y10, Y10
	VADDPS  Y10, Y9, Y9
	VADDPS  (R13)(AX*4), Y9, Y9
	VADDPS  Y4, Y9, Y9
	VMOVUPS (R9)(AX*4), Y12
	VCMPPS  $1, Y12, Y9, Y13
	VBLENDVPS Y13, Y9, Y12, Y12
	VMOVUPS Y12, (R9)(AX*4)
	VMOVDQU (R10)(AX*4), Y14
	VBLENDVPS Y13, Y6, Y14, Y14
	VMOVDQU Y14, (R10)(AX*4)
	ADDQ    $8, AX
	JMP     vecloop

tail:
	CMPQ AX, CX
	JGE  nextrow
	VMOVSS  (SI)(AX*4), X9
	VSUBSS  X0, X9, X9
	VMULSS  X9, X9, X9
	VMOVSS  (DI)(AX*4), X10
	VSUBSS  X1, X10, X10
	VMULSS  X10, X10, X10
	VADDSS  X10, X9, X9
	VMOVSS  (R8)(AX*4), X10
	VSUBSS  X2, X10, X10
	VMULSS  X10, X10, X10
	VADDSS  X10, X9, X9
	VADDSS  (R13)(AX*4), X9, X9
	VADDSS  X4, X9, X9
	VMOVSS  (R9)(AX*4), X12
	VCMPSS  $1, X12, X9, X13
	VBLENDVPS X13, X9, X12, X12
	VMOVSS  X12, (R9)(AX*4)
	VMOVSS  (R10)(AX*4), X14
	VBLENDVPS X13, X6, X14, X14
	VMOVSS  X14, (R10)(AX*4)
	INCQ    AX
	JMP     tail

nextrow:
	ADDQ R11, SI
	ADDQ R11, DI
	ADDQ R11, R8
	ADDQ R11, R9
	ADDQ R11, R10
	INCQ R12
	DECQ BX
	JMP  rowloop

done:
	VZEROUPPER
	RET
