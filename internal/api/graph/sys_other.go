//go:build !linux

package graph

// processCPUSeconds is unknown on this platform; CPU use reads 0.
func processCPUSeconds() float64 { return 0 }

// machineMemory is unknown on this platform; memory use reads 0 percent.
func machineMemory() uint64 { return 0 }
