// Command backend is the benchmark's upstream: a loopback HTTP server that
// answers every request with the same ~1 KiB JSON body, so that the proxies
// in front of it, not the backend, dominate the cost. It also carries two
// helpers the bench script needs without curl or python: -free-port and
// -wait.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	addrFile := flag.String("addr-file", "", "write the bound address to this file once listening")
	freePort := flag.Bool("free-port", false, "print a free loopback port and exit")
	wait := flag.String("wait", "", "poll this URL until it answers, then exit 0 (1 on timeout)")
	timeout := flag.Duration("timeout", 10*time.Second, "how long -wait polls")
	flag.Parse()

	var err error
	switch {
	case *freePort:
		err = printFreePort()
	case *wait != "":
		err = waitFor(*wait, *timeout)
	default:
		err = serve(*listen, *addrFile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
}

// body is built once: about 1 KiB of plausible item JSON.
var body = func() []byte {
	var b strings.Builder
	b.WriteString(`{"id":123,"name":"Sword of Benchmarks","price":{"amount":1999,"currency":"EUR"},"tags":[`)
	for i := 0; b.Len() < 960; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"tag-` + strconv.Itoa(i) + `"`)
	}
	b.WriteString(`],"stock":42}`)
	return []byte(b.String())
}()

func handler(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func serve(listen, addrFile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(handler), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second}
	if addrFile != "" {
		if err := writeAddr(addrFile, ln.Addr().String()); err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// writeAddr writes via a rename so that a poller never reads half a line.
func writeAddr(path, addr string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func printFreePort() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

func waitFor(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(min(time.Duration(attempt+1)*20*time.Millisecond, 200*time.Millisecond))
	}
	return fmt.Errorf("%s did not answer within %v", url, timeout)
}
