package index

// #cgo LDFLAGS: -lblas
// #include <cblas.h>
import "C"

import "unsafe"

// gemmNT sets c (m×n, row-major) to a·bᵀ, where a is m×dim and b is n×dim,
// both row-major: c[i*n+j] is the dot product of a's row i and b's row j.
// It calls the system BLAS (Debian's libblas: ATLAS or the reference
// implementation, whichever the alternatives system selects).
func gemmNT(a []float32, m int, b []float32, n int, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	_ = a[m*dim-1]
	_ = b[n*dim-1]
	_ = c[m*n-1]
	C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasTrans,
		C.int(m), C.int(n), C.int(dim), 1,
		(*C.float)(unsafe.Pointer(&a[0])), C.int(dim),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(dim), 0,
		(*C.float)(unsafe.Pointer(&c[0])), C.int(n))
}
