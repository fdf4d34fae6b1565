//! The fan-out write to N loopback sockets: the lobby's path (one shared pre-framed snapshot
//! handed to each member's connection writer, `Conn::send`, as the tick does through the member's
//! link) beside the floor, a bare `write(2)` of the same bytes to each of the same sockets. Sizes
//! sweep 8, 64, 256 and 1024 sockets.
//!
//! Only the writes are timed; the receiving ends are drained between iterations, untimed, so no
//! socket buffer fills and nobody is woken (the same for both, so the ratio is the writer's own
//! overhead over the kernel's).
#![forbid(unsafe_code)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tickrelay::protocol::{Frame, SessionId};
use tickrelay::session::writer::{Bounds, Conn};
use tickrelay::session::Socket;

const SIZES: [usize; 4] = [8, 64, 256, 1024];
/// A walkers delta for a lobby of 10 is about 50 bytes; one for 100 players about 400.
const PAYLOAD: usize = 64;

/// N connected loopback pairs: the server ends (to write to) and the client ends (to drain).
fn pairs(n: usize) -> (Vec<TcpStream>, Vec<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut servers = Vec::with_capacity(n);
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let c = TcpStream::connect(addr).unwrap();
        let (s, _) = listener.accept().unwrap();
        s.set_nodelay(true).unwrap();
        s.set_nonblocking(true).unwrap();
        c.set_nonblocking(true).unwrap();
        servers.push(s);
        clients.push(c);
    }
    (servers, clients)
}

fn drain(clients: &mut [TcpStream], buf: &mut [u8]) {
    for c in clients {
        while let Ok(1..) = c.read(buf) {}
    }
}

fn fanout_write(c: &mut Criterion) {
    let frame = Frame::from_payload(&[0x5a; PAYLOAD]);
    let mut buf = vec![0u8; 1 << 16];
    let mut g = c.benchmark_group("fanout_write");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for &n in &SIZES {
        let (servers, mut clients) = pairs(n);
        let bare: Vec<TcpStream> = servers.iter().map(|s| s.try_clone().unwrap()).collect();
        let bounds = Bounds {
            events: 72,
            backlog: 8,
        };
        // A lobby member's socket as the tick writes it: non-blocking, out of any reactor.
        let conns: Vec<Rc<Conn>> = servers
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Rc::new(Conn::new(
                    SessionId(i as u64),
                    Socket::new(s).unwrap(),
                    VecDeque::new(),
                    None,
                    bounds,
                    Instant::now(),
                ))
            })
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("floor_write", n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    for s in &bare {
                        let _ = (&*s).write(frame.bytes());
                    }
                    total += t.elapsed();
                    drain(&mut clients, &mut buf);
                }
                total
            })
        });
        g.bench_function(BenchmarkId::new("conn_send", n), |b| {
            b.iter_custom(|iters| {
                let (mut total, mut refused) = (Duration::ZERO, 0);
                for _ in 0..iters {
                    let t = Instant::now();
                    for c in &conns {
                        if c.send(&frame).is_err() {
                            refused += 1;
                        }
                    }
                    total += t.elapsed();
                    drain(&mut clients, &mut buf);
                }
                assert_eq!(
                    refused, 0,
                    "every socket must take its frame, or this times less work"
                );
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, fanout_write);
criterion_main!(benches);
