package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/features/rules"
)

// The flags that several commands share, made in one place so that each
// has one name and one meaning everywhere. register adds --quiet and
// --verbose to every command that does not define them itself.

// quietFlag is --quiet (-q): print nothing but errors.
func quietFlag() cli.Flag {
	return &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors (and the data asked for: --json, explain, models, --list)"}
}

// verboseFlag is --verbose (-v): more detail on stderr (a line per stage
// without a terminal; the stack of an internal error).
func verboseFlag() cli.Flag {
	return &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "more detail on stderr: a line per stage, the stack of an internal error"}
}

// jsonFlag is --json: the command's report as one JSON document on stdout.
func jsonFlag(what string) cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print " + what + " as JSON on stdout"}
}

// keyFileEnv names the environment variables a missing --key-file falls back to.
const keyFileEnv = "env POVRISK_KEY_FILE, or the key itself in POVRISK_KEY"

// keyFileFlag is --key-file: the HMAC key that pseudonymises ID numbers.
func keyFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "key-file", Usage: "HMAC key file for ID numbers (mode 600); default " + keyFileEnv}
}

// auditKeyFileFlag is --audit-key-file: the key that signs (run) and
// verifies (audit, doctor) the audit log.
func auditKeyFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "audit-key-file", Usage: "audit key that signs and verifies the audit log (mode 600, outside the runs directory); default env POVRISK_AUDIT_KEY_FILE, else ~/.config/povrisk/audit.key"}
}

// policyEnv is the environment variable --policy falls back to.
const policyEnv = "POVRISK_POLICY"

// samplePolicyName is the --policy value that selects the built-in sample.
const samplePolicyName = "sample"

// policyFlag is --policy, the same on every command that reads a policy:
// a TOML file, or "sample" for the built-in illustrative policy; default
// $POVRISK_POLICY. A night (run, doctor) refuses to start without one;
// train, evaluate and features fall back to the sample with a warning for
// one more release.
func policyFlag() cli.Flag {
	return &cli.StringFlag{Name: "policy", EnvVars: []string{policyEnv},
		Usage: "policy TOML file (see features/rules/policy.sample.toml), or 'sample' for the built-in illustrative one"}
}

// errNoPolicy is the error of a command that needs a policy and got none.
var errNoPolicy = errors.New("no policy: pass --policy FILE (or set POVRISK_POLICY); --policy sample uses the illustrative sample, not for production")

// policyFrom loads the policy named by --policy. With none given, required
// fails (exit 5) and otherwise the sample is used with a deprecation
// warning on stderr (unless --quiet). The path is "" for the sample.
func policyFrom(c *cli.Context, required bool) (*rules.Policy, string, error) {
	switch p := c.String("policy"); p {
	case samplePolicyName:
		return rules.SamplePolicy(), "", nil
	case "":
		if required {
			return nil, "", fault.Wrap(fault.Policy, errNoPolicy)
		}
		warnf(c, "no --policy given: using the illustrative sample policy; this fallback ends in the next release, pass --policy sample (or a policy file)")
		return rules.SamplePolicy(), "", nil
	default:
		pol, err := rules.LoadPolicy(p)
		if err != nil {
			return nil, p, fault.Wrap(fault.Policy, err)
		}
		return pol, p, nil
	}
}

// deprecatedFlag is an old spelling kept for one release: hidden from the
// help, it still works and says on stderr what replaces it.
func deprecatedFlag(old, replacement string) cli.Flag {
	return &cli.StringFlag{Name: old, Hidden: true, Usage: "deprecated: use --" + replacement,
		Action: func(c *cli.Context, _ string) error {
			warnf(c, "--%s is deprecated and goes in the next release: use --%s", old, replacement)
			return nil
		}}
}

// stringFlag is the value of flag name, or of its deprecated spelling old.
func stringFlag(c *cli.Context, name, old string) string {
	if v := c.String(name); v != "" || old == "" {
		return v
	}
	return c.String(old)
}

// quiet reports whether --quiet was given.
func quiet(c *cli.Context) bool { return c.Bool("quiet") }

// verbose reports whether --verbose was given (and --quiet was not).
func verbose(c *cli.Context) bool { return c.Bool("verbose") && !c.Bool("quiet") }

// warnf prints a warning line on stderr unless --quiet.
func warnf(c *cli.Context, format string, a ...any) {
	if !quiet(c) {
		fmt.Fprintf(c.App.ErrWriter, "povrisk: warning: "+format+"\n", a...)
	}
}

// waitFlag is --wait DURATION: how long a writer waits for a busy lock on
// the warehouse or the runs directory (lock.Options.Wait).
func waitFlag() cli.Flag {
	return &cli.DurationFlag{Name: "wait", Usage: "wait this long for a busy lock, e.g. 10m (default: exit 7 at once, naming the holder)"}
}

// reportWriter is where a command prints its report on stdout: nowhere
// with --quiet, unless --json asked for it.
func reportWriter(c *cli.Context) io.Writer {
	if quiet(c) && !c.Bool("json") {
		return io.Discard
	}
	return c.App.Writer
}

// infoWriter is where a command prints its summary line: stderr, or
// nowhere with --quiet.
func infoWriter(c *cli.Context) io.Writer {
	if quiet(c) {
		return io.Discard
	}
	return c.App.ErrWriter
}
