package fleet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/channel"
)

// PhoneHeader carries the phone's number in every request of the
// simulation, so that the server draws and logs faults per phone.
const PhoneHeader = "X-Calldir-Fleet-Phone"

// server serves the channel's files and day's pointer on the loopback
// interface, with the network and CDN faults.
type server struct {
	hist    *History
	root    *os.Root
	rates   Rates
	dice    dice
	timeout time.Duration // the client's: a slow response waits past it
	srv     *http.Server
	url     string

	mu     sync.Mutex
	day    int
	faults bool            // network faults on today
	cur    []byte          // the day's pointer envelope
	stale  map[int][]byte  // phone → an older envelope served today
	logs   map[int]*dayLog // phone → today's log
	seen   map[int]map[string]int
}

// dayLog is what the server did for one phone on one day.
type dayLog struct {
	Requests   int
	Bytes      int64
	Faults     map[Fault]int
	BuildFiles int // files of builds/ served whole
}

func startServer(h *History, rates Rates, d dice, timeout time.Duration) (*server, error) {
	root, err := os.OpenRoot(h.Dir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		root.Close()
		return nil, err
	}
	s := &server{hist: h, root: root, rates: rates, dice: d, timeout: timeout, logs: map[int]*dayLog{}, stale: map[int][]byte{}, seen: map[int]map[string]int{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
	s.root.Close()
}

// setDay serves envelope as channel.json from now on and starts new logs.
func (s *server) setDay(day int, faults bool, envelope []byte, stale map[int][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.day, s.faults, s.cur, s.stale = day, faults, envelope, stale
	s.logs = map[int]*dayLog{}
	s.seen = map[int]map[string]int{}
}

// takeLog returns and forgets a phone's log of the day.
func (s *server) takeLog(phone int) *dayLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.logs[phone]
	delete(s.logs, phone)
	if l == nil {
		l = &dayLog{Faults: map[Fault]int{}}
	}
	return l
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	phone, err := strconv.Atoi(r.Header.Get(PhoneHeader))
	rel := strings.TrimPrefix(r.URL.Path, "/")
	if err != nil || r.Method != http.MethodGet {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	day, faults := s.day, s.faults
	l := s.logs[phone]
	if l == nil {
		l = &dayLog{Faults: map[Fault]int{}}
		s.logs[phone] = l
	}
	if s.seen[phone] == nil {
		s.seen[phone] = map[string]int{}
	}
	n := s.seen[phone][rel]
	s.seen[phone][rel]++
	l.Requests++
	body := s.cur
	if st := s.stale[phone]; st != nil {
		body = st
	}
	s.mu.Unlock()

	if rel != channel.PointerName {
		if !(strings.HasPrefix(rel, channel.BuildsDir+"/") || strings.HasPrefix(rel, channel.DeltasDir+"/")) {
			http.NotFound(w, r)
			return
		}
		body, err = shard.ReadRegular(s.root, rel, 1<<30)
		if err != nil {
			http.NotFound(w, r)
			return
		}
	}
	note := func(f Fault) {
		s.mu.Lock()
		l.Faults[f]++
		s.mu.Unlock()
	}
	count := func(b int) {
		s.mu.Lock()
		l.Bytes += int64(b)
		s.mu.Unlock()
	}
	key := func(f Fault) []any { return []any{"net", f, phone, day, rel, n} }
	switch {
	case !faults:
	case s.dice.hit(s.rates[Fault5xx], key(Fault5xx)...):
		note(Fault5xx)
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	case s.dice.hit(s.rates[FaultSlow], key(FaultSlow)...):
		note(FaultSlow)
		select {
		case <-time.After(s.timeout + s.timeout/2):
		case <-r.Context().Done():
			return
		}
	case s.dice.hit(s.rates[FaultReset], key(FaultReset)...):
		note(FaultReset)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		cut := s.dice.rng(key(FaultReset)...).IntN(len(body) + 1)
		w.Write(body[:cut])
		count(cut)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler) // the connection is closed mid-body
	case s.dice.hit(s.rates[FaultFlip], key(FaultFlip)...) && len(body) > 0:
		note(FaultFlip)
		rng := s.dice.rng(key(FaultFlip)...)
		b := append([]byte(nil), body...)
		b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
		body = b
	}
	if strings.HasPrefix(rel, channel.BuildsDir+"/") {
		s.mu.Lock()
		l.BuildFiles++
		s.mu.Unlock()
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	k, err := w.Write(body)
	count(k)
	if err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		return
	}
}

// phoneTransport adds the phone's header to each request.
type phoneTransport struct {
	phone int
	base  http.RoundTripper
}

func (t phoneTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(PhoneHeader, strconv.Itoa(t.phone))
	return t.base.RoundTrip(r)
}
