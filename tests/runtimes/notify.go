// gccgo under mode=enforce (tests/integration/test-runtimes.c): its runtime
// queries and installs every signal at start-up, runs goroutines on
// several threads, and receives SIGHUP through os/signal.

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
)

func main() {
	runtime.GOMAXPROCS(2)
	c := make(chan os.Signal, 4)
	signal.Notify(c, syscall.SIGHUP)
	var wg sync.WaitGroup
	sum := make([]int, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(k int) { defer wg.Done(); for j := 0; j < 20000000; j++ { sum[k] += j % 7 } }(i)
	}
	wg.Wait()
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	s := <-c
	fmt.Println("got", s, sum[0]+sum[1]+sum[2]+sum[3])
	os.Exit(5)
}
