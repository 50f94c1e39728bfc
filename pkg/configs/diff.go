package configs

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// ChangeOp says what happened to a key.
type ChangeOp string

// The key-level changes a diff reports.
const (
	KeyAdded   ChangeOp = "added"
	KeyRemoved ChangeOp = "removed"
	KeyChanged ChangeOp = "changed"
)

// Change is one key that differs between two versions of an object. Old
// and New hold values only for ConfigMaps; for Secrets they are always
// empty and only sizes and hashes are set.
type Change struct {
	Key     string   `json:"key"`
	Op      ChangeOp `json:"op"`
	Old     *string  `json:"old,omitempty"`
	New     *string  `json:"new,omitempty"`
	OldSize int      `json:"oldSize"`
	NewSize int      `json:"newSize"`
	OldHash string   `json:"oldHash,omitempty"`
	NewHash string   `json:"newHash,omitempty"`
}

// Diff returns the keys that differ from `from` to `to`, sorted by key.
// Values are included only when both are ConfigMaps.
func Diff(from, to *Object) []Change {
	showValues := from.Kind == KindConfigMap && to.Kind == KindConfigMap
	a, b := from.Values(), to.Values()
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []Change
	for _, k := range sortedKeys(keys) {
		av, inA := a[k]
		bv, inB := b[k]
		c := Change{Key: k}
		switch {
		case inA && !inB:
			c.Op = KeyRemoved
		case !inA && inB:
			c.Op = KeyAdded
		case !bytes.Equal(av, bv):
			c.Op = KeyChanged
		default:
			continue
		}
		if inA {
			c.OldSize, c.OldHash = len(av), ValueHash(av)
			if showValues {
				s := string(av)
				c.Old = &s
			}
		}
		if inB {
			c.NewSize, c.NewHash = len(bv), ValueHash(bv)
			if showValues {
				s := string(bv)
				c.New = &s
			}
		}
		out = append(out, c)
	}
	return out
}

// WriteDiff prints changes one key per line: "+" added, "-" removed, "~"
// changed. ConfigMap values are quoted; Secret values appear only as size
// and hash.
func WriteDiff(w io.Writer, changes []Change) {
	if len(changes) == 0 {
		fmt.Fprintln(w, "  (no key differs)")
		return
	}
	for _, c := range changes {
		switch c.Op {
		case KeyAdded:
			fmt.Fprintf(w, "  + %s: %s\n", c.Key, shown(c.New, c.NewSize, c.NewHash))
		case KeyRemoved:
			fmt.Fprintf(w, "  - %s: %s\n", c.Key, shown(c.Old, c.OldSize, c.OldHash))
		case KeyChanged:
			fmt.Fprintf(w, "  ~ %s: %s -> %s\n", c.Key, shown(c.Old, c.OldSize, c.OldHash), shown(c.New, c.NewSize, c.NewHash))
		}
	}
}

// maxShown is the longest ConfigMap value printed in full in a diff.
const maxShown = 60

func shown(v *string, size int, hash string) string {
	if v == nil {
		return fmt.Sprintf("(%d bytes, sha256:%s)", size, hash)
	}
	if len(*v) > maxShown || !utf8.ValidString(*v) {
		return fmt.Sprintf("(%d bytes, sha256:%s)", size, hash)
	}
	return strconv.Quote(*v)
}
