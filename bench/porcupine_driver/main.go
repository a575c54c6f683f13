// porcupine_driver: checks histories with the Porcupine library, for bench/lin_families.sh.
// Written for tidemark's benchmark; it uses Porcupine only through its public API, and
// bench/lin_families.sh builds it against a Porcupine checkout given by PORCUPINE_DIR (nothing
// of Porcupine is in tidemark's repository).
//
// Two models, each with the parser of the format tidemark reads for it:
//
//   - cas-register (default): one register, the Jepsen console-log format (Porcupine's etcd
//     corpus; what bench/gen_register writes and `tidemark check --format jepsen-log` reads).
//   - kv: get/put/append on string keys, one EDN map per line (Porcupine's kv corpus;
//     `tidemark check --format edn-lines --model kv`), partitioned by key as Porcupine's own kv
//     tests do.
//
// Semantics match tidemark's: fail ops are removed; crashed (info) ops may take effect at any
// time after their call, or never (their return is put after every other event, and a crashed
// cas whose expected value is not there does nothing); crashed reads and gets are removed.
//
//	porcupine_driver [-model cas-register|kv] [-explain out.html] [-timeout seconds] file...
//
// Every file is checked in this one process, one after another, as a Go test suite checks a
// corpus. For each it prints "<verdict> <ms> <file>": the verdict (valid, invalid, unknown) and
// the milliseconds, from Go's monotonic clock, spent reading and parsing the file, checking it
// and (with -explain) computing the verbose result and writing the visualization (each file's
// overwrites the last's). The exit code is the worst, as for `tidemark check`: 255 (a file
// could not be read) over 1 (invalid) over 2 (unknown) over 0 (valid).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// ---- events shared by both parsers ----

// history collects Porcupine events while a file is read: calls as they come, returns of
// completed ops as they come, crashed ops' returns at the end.
type history struct {
	events  []porcupine.Event
	crashed []porcupine.Event
	open    map[string]int // process -> id of its open call
	clients map[string]int
	nextID  int
}

func newHistory() *history {
	return &history{open: map[string]int{}, clients: map[string]int{}}
}

func (h *history) client(proc string) int {
	c, ok := h.clients[proc]
	if !ok {
		c = len(h.clients)
		h.clients[proc] = c
	}
	return c
}

func (h *history) call(proc string, in interface{}) {
	h.open[proc] = h.nextID
	h.events = append(h.events, porcupine.Event{ClientId: h.client(proc), Kind: porcupine.CallEvent, Value: in, Id: h.nextID})
	h.nextID++
}

// complete records the return of proc's open call (if it has one).
func (h *history) complete(proc string, out interface{}) {
	id, ok := h.open[proc]
	if !ok {
		return
	}
	delete(h.open, proc)
	h.events = append(h.events, porcupine.Event{ClientId: h.client(proc), Kind: porcupine.ReturnEvent, Value: out, Id: id})
}

// drop removes proc's open call: a failed op, or a crashed one that changes nothing.
func (h *history) drop(proc string) {
	id, ok := h.open[proc]
	if !ok {
		return
	}
	delete(h.open, proc)
	for i := len(h.events) - 1; i >= 0; i-- {
		if h.events[i].Id == id && h.events[i].Kind == porcupine.CallEvent {
			h.events = append(h.events[:i], h.events[i+1:]...)
			return
		}
	}
}

// crash lets proc's open call take effect at any time after it, or never.
func (h *history) crash(proc string, out interface{}) {
	id, ok := h.open[proc]
	if !ok {
		return
	}
	delete(h.open, proc)
	h.crashed = append(h.crashed, porcupine.Event{ClientId: h.client(proc), Kind: porcupine.ReturnEvent, Value: out, Id: id})
}

// finish treats calls that never completed as crashed; crashedOutput gives their output.
func (h *history) finish(crashedOutput func(id int) interface{}) []porcupine.Event {
	procs := make([]string, 0, len(h.open))
	for p := range h.open {
		procs = append(procs, p)
	}
	sort.Strings(procs)
	for _, p := range procs {
		h.crash(p, crashedOutput(h.open[p]))
	}
	return append(h.events, h.crashed...)
}

func (h *history) callInput(id int) interface{} {
	for i := len(h.events) - 1; i >= 0; i-- {
		if h.events[i].Id == id && h.events[i].Kind == porcupine.CallEvent {
			return h.events[i].Value
		}
	}
	return nil
}

func forEachLine(path string, f func(line string)) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		f(scanner.Text())
	}
	return scanner.Err()
}

// ---- cas-register, Jepsen console log ----

const nilValue = int64(-1) << 62

type casInput struct {
	f    byte // 'r', 'w', 'c'
	a, b int64
}

type casOutput struct {
	value   int64 // what a read returned
	unknown bool  // the op crashed
}

func parseValue(s string) int64 {
	if s == "nil" {
		return nilValue
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nilValue
	}
	return v
}

func parseCasInput(f, v string) casInput {
	switch f {
	case ":write":
		return casInput{f: 'w', a: parseValue(v)}
	case ":cas":
		parts := strings.Fields(strings.Trim(v, "[]"))
		if len(parts) == 2 {
			return casInput{f: 'c', a: parseValue(parts[0]), b: parseValue(parts[1])}
		}
		return casInput{f: 'c'}
	}
	return casInput{f: 'r'}
}

// readJepsenLog reads lines "... jepsen.util - <process>\t<type>\t<f>\t<value>".
func readJepsenLog(path string) ([]porcupine.Event, error) {
	h := newHistory()
	err := forEachLine(path, func(line string) {
		at := strings.Index(line, "jepsen.util - ")
		if at < 0 {
			return
		}
		fields := strings.Split(line[at+len("jepsen.util - "):], "\t")
		if len(fields) < 4 {
			return
		}
		proc, kind, f, value := fields[0], fields[1], fields[2], fields[3]
		switch kind {
		case ":invoke":
			h.call(proc, parseCasInput(f, value))
		case ":ok":
			out := casOutput{}
			if f == ":read" {
				out.value = parseValue(value)
			}
			h.complete(proc, out)
		case ":fail":
			h.drop(proc)
		case ":info":
			if id, ok := h.open[proc]; ok && h.callInput(id).(casInput).f == 'r' {
				h.drop(proc)
			} else {
				h.crash(proc, casOutput{unknown: true})
			}
		}
	})
	return h.finish(func(int) interface{} { return casOutput{unknown: true} }), err
}

var casRegister = porcupine.Model{
	Init: func() interface{} { return nilValue },
	Step: func(state, in, out interface{}) (bool, interface{}) {
		st, i, o := state.(int64), in.(casInput), out.(casOutput)
		switch i.f {
		case 'r':
			return o.unknown || o.value == st, st
		case 'w':
			return true, i.a
		default:
			if st == i.a {
				return true, i.b
			}
			return o.unknown, st // a crashed cas whose expectation fails does nothing
		}
	},
	Hash: func(state interface{}) uint64 { return uint64(state.(int64)) * 0x9E3779B97F4A7C15 },
	DescribeOperation: func(in, out interface{}) string {
		i, o := in.(casInput), out.(casOutput)
		switch i.f {
		case 'r':
			return fmt.Sprintf("read -> %d", o.value)
		case 'w':
			return fmt.Sprintf("write %d", i.a)
		}
		return fmt.Sprintf("cas [%d %d]", i.a, i.b)
	},
	DescribeState: func(state interface{}) string { return fmt.Sprint(state.(int64)) },
}

// ---- kv, one EDN map per line ----

type kvInput struct {
	f          byte // 'g' get, 'p' put, 'a' append
	key, value string
}

type kvOutput struct {
	value   string // what a get returned
	unknown bool   // the op crashed
}

// ednFields reads the flat map "{:k v, :k "s", ...}" of one line: keyword -> value, strings
// unquoted (backslash escapes kept as the character after the backslash).
func ednFields(line string) map[string]string {
	m := map[string]string{}
	i, n := 0, len(line)
	for i < n {
		for i < n && line[i] != ':' {
			i++
		}
		start := i
		for i < n && line[i] != ' ' && line[i] != ',' && line[i] != '}' {
			i++
		}
		name := line[start:i]
		for i < n && line[i] == ' ' {
			i++
		}
		if i < n && line[i] == '"' {
			var b strings.Builder
			for i++; i < n && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < n {
					i++
				}
				b.WriteByte(line[i])
			}
			i++
			m[name] = b.String()
			continue
		}
		start = i
		for i < n && line[i] != ',' && line[i] != '}' {
			i++
		}
		m[name] = strings.TrimSpace(line[start:i])
	}
	return m
}

func readEdnLines(path string) ([]porcupine.Event, error) {
	h := newHistory()
	err := forEachLine(path, func(line string) {
		m := ednFields(line)
		proc, kind, f := m[":process"], m[":type"], m[":f"]
		switch kind {
		case ":invoke":
			in := kvInput{key: m[":key"], value: m[":value"]}
			switch f {
			case ":get":
				in.f, in.value = 'g', ""
			case ":put":
				in.f = 'p'
			case ":append":
				in.f = 'a'
			default:
				return
			}
			h.call(proc, in)
		case ":ok":
			h.complete(proc, kvOutput{value: m[":value"]})
		case ":fail":
			h.drop(proc)
		case ":info":
			if id, ok := h.open[proc]; ok && h.callInput(id).(kvInput).f == 'g' {
				h.drop(proc)
			} else {
				h.crash(proc, kvOutput{unknown: true})
			}
		}
	})
	return h.finish(func(int) interface{} { return kvOutput{unknown: true} }), err
}

// kvByKey puts each op's call and return in its key's partition, keys in order.
func kvByKey(events []porcupine.Event) [][]porcupine.Event {
	keyOf := map[int]string{}
	parts := map[string][]porcupine.Event{}
	for _, e := range events {
		if e.Kind == porcupine.CallEvent {
			keyOf[e.Id] = e.Value.(kvInput).key
		}
		k := keyOf[e.Id]
		parts[k] = append(parts[k], e)
	}
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Event, 0, len(keys))
	for _, k := range keys {
		out = append(out, parts[k])
	}
	return out
}

// The state is one key's value (the history is partitioned by key).
var kv = porcupine.Model{
	PartitionEvent: kvByKey,
	Init:           func() interface{} { return "" },
	Step: func(state, in, out interface{}) (bool, interface{}) {
		st, i, o := state.(string), in.(kvInput), out.(kvOutput)
		switch i.f {
		case 'g':
			return o.unknown || o.value == st, st
		case 'p':
			return true, i.value
		}
		return true, st + i.value
	},
	Hash: func(state interface{}) uint64 {
		h := fnv.New64a()
		h.Write([]byte(state.(string)))
		return h.Sum64()
	},
	DescribeOperation: func(in, out interface{}) string {
		i, o := in.(kvInput), out.(kvOutput)
		switch i.f {
		case 'g':
			return fmt.Sprintf("get(%q) -> %q", i.key, o.value)
		case 'p':
			return fmt.Sprintf("put(%q, %q)", i.key, i.value)
		}
		return fmt.Sprintf("append(%q, %q)", i.key, i.value)
	},
	DescribeState: func(state interface{}) string { return fmt.Sprintf("%q", state.(string)) },
}

// ---- main ----

// checkFile returns the file's exit code (0 valid, 1 invalid, 2 unknown, 255 unreadable).
func checkFile(path string, read func(string) ([]porcupine.Event, error), model porcupine.Model,
	limit time.Duration, explain string) (int, error) {
	events, err := read(path)
	if err != nil {
		return 255, err
	}
	var result porcupine.CheckResult
	if explain != "" {
		var info porcupine.LinearizationInfo
		result, info = porcupine.CheckEventsVerbose(model, events, limit)
		if err := porcupine.VisualizePath(model, info, explain); err != nil {
			return 255, err
		}
	} else {
		result = porcupine.CheckEventsTimeout(model, events, limit)
	}
	switch result {
	case porcupine.Ok:
		return 0, nil
	case porcupine.Illegal:
		return 1, nil
	}
	return 2, nil
}

func main() {
	modelName := flag.String("model", "cas-register", "cas-register (Jepsen console log) or kv (EDN lines)")
	explain := flag.String("explain", "", "also compute the verbose result and write Porcupine's visualization here")
	timeout := flag.Float64("timeout", 60, "seconds before a file's check gives up (unknown)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: porcupine_driver [-model cas-register|kv] [-explain out.html] [-timeout s] file...")
		os.Exit(254)
	}
	read, model := readJepsenLog, casRegister
	switch *modelName {
	case "cas-register":
	case "kv":
		read, model = readEdnLines, kv
	default:
		fmt.Fprintln(os.Stderr, "porcupine_driver: unknown -model", *modelName)
		os.Exit(254)
	}
	limit := time.Duration(*timeout * float64(time.Second))
	out := bufio.NewWriter(os.Stdout)
	worst := 0
	rank := map[int]int{0: 0, 2: 1, 1: 2, 255: 3}
	for _, path := range flag.Args() {
		start := time.Now()
		rc, err := checkFile(path, read, model, limit, *explain)
		ms := float64(time.Since(start).Nanoseconds()) / 1e6
		if err != nil {
			fmt.Fprintln(os.Stderr, "porcupine_driver:", path+":", err)
		}
		verdict := map[int]string{0: "valid", 1: "invalid", 2: "unknown", 255: "unreadable"}[rc]
		fmt.Fprintf(out, "%s %.3f %s\n", verdict, ms, path)
		out.Flush() // each line as soon as it is known: a later file may exhaust the memory
		if rank[rc] > rank[worst] {
			worst = rc
		}
	}
	os.Exit(worst)
}
