package sortx
import ("testing";"syscall";"time";"runtime")
func cpuTime() time.Duration { var ru syscall.Rusage; syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); return time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) }
func TestDbgMerge(t *testing.T) {
	runtime.LockOSThread()
	in := benchInput(10_000_000)
	r := NewRuns(t.TempDir(), 16<<20)
	defer r.Close()
	r.AddSlice(in)
	m, _ := r.Iterator()
	best := time.Hour
	for i := 0; i < 8; i++ {
		m.Reset()
		c0 := cpuTime()
		for _, ok := m.Next(); ok; _, ok = m.Next() {}
		if d := cpuTime() - c0; d < best { best = d }
	}
	t.Log("best cpu", best)
}
