// Package layers holds the test that keeps docs/architecture.md true: each
// package imports only the segtool packages its layer allows.
package layers
