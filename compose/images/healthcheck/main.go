// Command healthcheck is the HEALTHCHECK of the FROM-scratch images, which
// have no shell or curl: it GETs one URL (default the service's /readyz on
// 127.0.0.1:8080) and exits 0 on 200, 1 otherwise.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	url := "http://127.0.0.1:8080/readyz"
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, url, resp.Status)
		os.Exit(1)
	}
}
