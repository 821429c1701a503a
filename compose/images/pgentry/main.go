// Command pgentry is the entrypoint of the local postgres:15 stand-in image.
// Like the official image it initialises the cluster on first start from
// POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB, allows password logins
// from the network, then replaces itself with postgres listening on all
// addresses. It runs as the image's non-root user.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const bin = "/usr/lib/postgresql/15/bin"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgentry:", err)
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run() error {
	data := env("PGDATA", "/var/lib/postgresql/data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); os.IsNotExist(err) {
		if err := initCluster(data); err != nil {
			return err
		}
	}
	args := []string{"postgres", "-D", data, "-c", "listen_addresses=*", "-c", "unix_socket_directories=/tmp"}
	args = append(args, os.Args[1:]...)
	return syscall.Exec(filepath.Join(bin, "postgres"), args, os.Environ())
}

func initCluster(data string) error {
	user := env("POSTGRES_USER", "postgres")
	db := env("POSTGRES_DB", user)
	password := os.Getenv("POSTGRES_PASSWORD")
	auth := env("POSTGRES_HOST_AUTH_METHOD", "scram-sha-256")
	if password == "" && auth != "trust" {
		return fmt.Errorf("POSTGRES_PASSWORD is empty; set it or POSTGRES_HOST_AUTH_METHOD=trust")
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	pw, err := os.CreateTemp("", "pwfile-")
	if err != nil {
		return err
	}
	defer os.Remove(pw.Name())
	if _, err := pw.WriteString(password + "\n"); err != nil {
		return err
	}
	pw.Close()
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", user, "--pwfile="+pw.Name(),
		"-E", "UTF8", "--locale=C", "--auth-local=trust", "--auth-host="+auth)
	initdb.Stdout, initdb.Stderr = os.Stdout, os.Stderr
	if err := initdb.Run(); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	hba, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(hba, "host all all all %s\n", auth)
	if err := hba.Close(); err != nil {
		return err
	}
	if db == "postgres" {
		return nil
	}
	// Single-user mode creates the database without a server or a socket.
	single := exec.Command(filepath.Join(bin, "postgres"), "--single", "-D", data, "postgres")
	single.Stdin = strings.NewReader(fmt.Sprintf("CREATE DATABASE \"%s\" OWNER \"%s\";\n",
		strings.ReplaceAll(db, `"`, `""`), strings.ReplaceAll(user, `"`, `""`)))
	single.Stdout, single.Stderr = os.Stdout, os.Stderr
	if err := single.Run(); err != nil {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	return nil
}
