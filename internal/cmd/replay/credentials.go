package replay

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unicode"

	"github.com/reprise-dev/reprise/harness/replay/creds"
	"github.com/reprise-dev/reprise/scenarios"
)

// credentialOverride turns --credentials FILE or --credentials-command CMD
// into the scenario's credentials section. A token file that others (not
// only the group) may read is refused; one the group may read is used with a
// warning.
func (o *Options) credentialOverride(over *scenarios.Overrides) error {
	switch {
	case o.CredentialsFile != "" && o.CredentialsCommand != "":
		return errors.New("replay: --credentials and --credentials-command are exclusive; give one")
	case o.CredentialsFile != "":
		tokens, err := creds.LoadFile(o.CredentialsFile)
		if errors.Is(err, creds.ErrInsecureFile) {
			if worldReadable(o.CredentialsFile) {
				return fmt.Errorf("replay: --credentials: %w; refusing a token file anyone may read", err)
			}
			fmt.Fprintf(o.IO.ErrOut, "replay: warning: --credentials: %v\n", err)
			err = nil
		}
		if err != nil {
			return fmt.Errorf("replay: --credentials: %w", err)
		}
		if len(tokens) == 0 {
			return fmt.Errorf("replay: --credentials %s: no tokens in it", o.CredentialsFile)
		}
		over.Credentials = &scenarios.Credentials{Provider: scenarios.ProviderStatic, Tokens: tokens}
		over.CredentialsFlag = "--credentials"
	case o.CredentialsCommand != "":
		argv, err := splitCommand(o.CredentialsCommand)
		if err != nil {
			return fmt.Errorf("replay: --credentials-command: %w", err)
		}
		over.Credentials = &scenarios.Credentials{Provider: scenarios.ProviderCommand, Command: argv}
		over.CredentialsFlag = "--credentials-command"
	}
	return nil
}

func worldReadable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && runtime.GOOS != "windows" && st.Mode().Perm()&0o004 != 0
}

// provider returns the credentials provider of the scenario; nil for
// provider none (tokens come from replayed logins only).
func provider(c scenarios.Credentials) creds.Provider {
	switch c.Provider {
	case scenarios.ProviderStatic:
		return creds.Static(c.Tokens)
	case scenarios.ProviderCommand:
		return creds.Command(c.Command, c.Timeout.Std())
	}
	return nil
}

// splitCommand splits a command line into words the way a POSIX shell does
// for plain words and quotes: 'single' quotes keep everything, "double"
// quotes and bare words honour backslash escapes. Nothing is expanded: no
// variables, globs or pipes; the program is run directly, not by a shell.
func splitCommand(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case unicode.IsSpace(r):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	switch {
	case escaped:
		return nil, errors.New("ends with a lone backslash")
	case quote != 0:
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 || words[0] == "" {
		return nil, errors.New("empty command")
	}
	return words, nil
}
