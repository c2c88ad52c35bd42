package dataplane

import "unsafe"

// unsafePointer is the one place the package converts a pointer, to lay a
// socket control message header over a byte buffer.
func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
