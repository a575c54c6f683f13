// porcupine_driver: checks one single-register history in the Jepsen console-log format (the
// format bench/gen_register writes and `tidemark check --format jepsen-log` reads) with the
// Porcupine library, for bench/lin_families.sh. Written for tidemark's benchmark; it uses
// Porcupine only through its public API, and bench/lin_families.sh builds it against a Porcupine
// checkout given by PORCUPINE_DIR (nothing of Porcupine is in tidemark's repository).
//
// Semantics match tidemark's: fail ops are removed; crashed (info) ops may take effect at any
// time after their call, or never (their return is put after every other event, and a crashed
// cas whose expected value is not there does nothing); crashed reads are removed.
//
//	porcupine_driver [-explain out.html] [-timeout seconds] history.log
//
// Prints "valid", "invalid" or "unknown", and exits 0, 1 or 2 like `tidemark check`.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

const nilValue = int64(-1) << 62

type input struct {
	f    byte // 'r', 'w', 'c'
	a, b int64
}

type output struct {
	value   int64 // what a read returned
	unknown bool  // the op crashed
}

type pending struct {
	id int
	in input
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

func parseInput(f, v string) input {
	switch f {
	case ":write":
		return input{f: 'w', a: parseValue(v)}
	case ":cas":
		parts := strings.Fields(strings.Trim(v, "[]"))
		if len(parts) == 2 {
			return input{f: 'c', a: parseValue(parts[0]), b: parseValue(parts[1])}
		}
		return input{f: 'c'}
	}
	return input{f: 'r'}
}

// readHistory turns the log into Porcupine events.
func readHistory(path string) ([]porcupine.Event, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var events []porcupine.Event
	var crashed []porcupine.Event
	open := map[string]pending{}
	clients := map[string]int{}
	nextID := 0
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		at := strings.Index(line, "jepsen.util - ")
		if at < 0 {
			continue
		}
		fields := strings.Split(line[at+len("jepsen.util - "):], "\t")
		if len(fields) < 4 {
			continue
		}
		proc, kind, f, value := fields[0], fields[1], fields[2], fields[3]
		if _, ok := clients[proc]; !ok {
			clients[proc] = len(clients)
		}
		client := clients[proc]
		switch kind {
		case ":invoke":
			in := parseInput(f, value)
			open[proc] = pending{id: nextID, in: in}
			events = append(events, porcupine.Event{ClientId: client, Kind: porcupine.CallEvent, Value: in, Id: nextID})
			nextID++
		case ":ok":
			p := open[proc]
			delete(open, proc)
			out := output{}
			if p.in.f == 'r' {
				out.value = parseValue(value)
			}
			events = append(events, porcupine.Event{ClientId: client, Kind: porcupine.ReturnEvent, Value: out, Id: p.id})
		case ":fail", ":info":
			p := open[proc]
			delete(open, proc)
			if kind == ":fail" || p.in.f == 'r' {
				events = removeCall(events, p.id)
				continue
			}
			crashed = append(crashed, porcupine.Event{ClientId: client, Kind: porcupine.ReturnEvent, Value: output{unknown: true}, Id: p.id})
		}
	}
	for _, p := range open { // never completed: as crashed
		crashed = append(crashed, porcupine.Event{Kind: porcupine.ReturnEvent, Value: output{unknown: true}, Id: p.id})
	}
	return append(events, crashed...), scanner.Err()
}

func removeCall(events []porcupine.Event, id int) []porcupine.Event {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Id == id && events[i].Kind == porcupine.CallEvent {
			return append(events[:i], events[i+1:]...)
		}
	}
	return events
}

var casRegister = porcupine.Model{
	Init: func() interface{} { return nilValue },
	Step: func(state, in, out interface{}) (bool, interface{}) {
		st, i, o := state.(int64), in.(input), out.(output)
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
		i, o := in.(input), out.(output)
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

func main() {
	explain := flag.String("explain", "", "also compute the verbose result and write Porcupine's visualization here")
	timeout := flag.Float64("timeout", 60, "seconds before the check gives up (unknown)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: porcupine_driver [-explain out.html] [-timeout s] history.log")
		os.Exit(254)
	}
	events, err := readHistory(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(255)
	}
	limit := time.Duration(*timeout * float64(time.Second))
	var result porcupine.CheckResult
	if *explain != "" {
		var info porcupine.LinearizationInfo
		result, info = porcupine.CheckEventsVerbose(casRegister, events, limit)
		if err := porcupine.VisualizePath(casRegister, info, *explain); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	} else {
		result = porcupine.CheckEventsTimeout(casRegister, events, limit)
	}
	switch result {
	case porcupine.Ok:
		fmt.Println("valid")
	case porcupine.Illegal:
		fmt.Println("invalid")
		os.Exit(1)
	default:
		fmt.Println("unknown")
		os.Exit(2)
	}
}
