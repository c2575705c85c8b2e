//! The TCP sockets listening on this machine, from the kernel's socket
//! diagnostics over netlink (`NETLINK_SOCK_DIAG`, what `ss -lt` uses).
//! `/proc/net/tcp` gives the same, but the kernel walks every bucket of
//! its connection tables to write it: over a millisecond per read on a
//! machine with much memory, where asking for listening sockets only
//! walks the short listening table.

use std::io;
use std::mem::size_of;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A listening TCP socket: its address, its owner's uid, its inode (the
/// `socket:[INODE]` a process's descriptor links to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listener {
    pub addr: SocketAddr,
    pub uid: u32,
    pub inode: u64,
}

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const TCP_LISTEN: u32 = 10;

/// `struct inet_diag_sockid` (linux/inet_diag.h).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct SockId {
    sport: [u8; 2],
    dport: [u8; 2],
    src: [u32; 4],
    dst: [u32; 4],
    interface: u32,
    cookie: [u32; 2],
}

/// `struct inet_diag_req_v2`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Request {
    family: u8,
    protocol: u8,
    ext: u8,
    pad: u8,
    states: u32,
    id: SockId,
}

/// `struct inet_diag_msg`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Reply {
    family: u8,
    state: u8,
    timer: u8,
    retrans: u8,
    id: SockId,
    expires: u32,
    rqueue: u32,
    wqueue: u32,
    uid: u32,
    inode: u32,
}

/// Every listening TCP socket, IPv4 and IPv6. A family the kernel
/// cannot answer for (IPv6 switched off) gives none; an error only when
/// neither can be asked.
pub fn listening_tcp() -> io::Result<Vec<Listener>> {
    let mut out = Vec::new();
    let mut failed = None;
    let mut answered = false;
    for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
        let mut some = Vec::new();
        match dump(family, &mut some) {
            Ok(()) => {
                answered = true;
                out.extend(some);
            }
            Err(e) => failed = Some(e),
        }
    }
    match (answered, failed) {
        (false, Some(e)) => Err(e),
        _ => Ok(out),
    }
}

fn dump(family: u8, out: &mut Vec<Listener>) -> io::Result<()> {
    // SAFETY: a plain socket(2); the fd is owned from here on.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a new descriptor nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    #[repr(C)]
    struct Message {
        header: libc::nlmsghdr,
        request: Request,
    }
    let message = Message {
        header: libc::nlmsghdr {
            nlmsg_len: size_of::<Message>() as u32,
            nlmsg_type: SOCK_DIAG_BY_FAMILY,
            nlmsg_flags: (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16,
            nlmsg_seq: 1,
            nlmsg_pid: 0,
        },
        request: Request {
            family,
            protocol: libc::IPPROTO_TCP as u8,
            ext: 0,
            pad: 0,
            states: 1 << TCP_LISTEN,
            id: SockId::default(),
        },
    };
    // SAFETY: sending `message`'s bytes, which live across the call.
    let sent = unsafe {
        libc::send(
            fd.as_raw_fd(),
            (&message as *const Message).cast(),
            size_of::<Message>(),
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = vec![0u8; 32 << 10];
    loop {
        // SAFETY: receiving into `buf`, of the length given.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut at = 0usize;
        let n = n as usize;
        while at + size_of::<libc::nlmsghdr>() <= n {
            // SAFETY: a header's worth of bytes is there; read unaligned.
            let header: libc::nlmsghdr =
                unsafe { std::ptr::read_unaligned(buf[at..].as_ptr().cast()) };
            let len = header.nlmsg_len as usize;
            if len < size_of::<libc::nlmsghdr>() || at + len > n {
                return Err(io::Error::other("a torn netlink message"));
            }
            let body = at + size_of::<libc::nlmsghdr>();
            // DONE and ERROR carry an int first: 0, or a negative errno
            // (a dump that failed part way says so in its DONE).
            let code = buf
                .get(body..(body + 4).min(at + len))
                .filter(|b| b.len() == 4)
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .unwrap_or(0);
            match header.nlmsg_type as i32 {
                libc::NLMSG_DONE | libc::NLMSG_ERROR if code < 0 => {
                    return Err(io::Error::from_raw_os_error(-code));
                }
                libc::NLMSG_DONE => return Ok(()),
                // An acknowledgement (error 0), a no-op, an overrun: no
                // socket in them.
                t if t != SOCK_DIAG_BY_FAMILY as i32 => {}
                _ => {
                    if body + size_of::<Reply>() <= at + len {
                        // SAFETY: a reply's worth of bytes is there.
                        let r: Reply =
                            unsafe { std::ptr::read_unaligned(buf[body..].as_ptr().cast()) };
                        out.push(listener(&r));
                    }
                }
            }
            // Messages are aligned to 4 bytes.
            at += (len + 3) & !3;
        }
    }
}

fn listener(r: &Reply) -> Listener {
    let port = u16::from_be_bytes(r.id.sport);
    let ip = if r.family == libc::AF_INET as u8 {
        IpAddr::V4(Ipv4Addr::from(r.id.src[0].to_ne_bytes()))
    } else {
        let mut b = [0u8; 16];
        for (k, w) in r.id.src.iter().enumerate() {
            b[k * 4..k * 4 + 4].copy_from_slice(&w.to_ne_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(b))
    };
    Listener {
        addr: SocketAddr::new(ip, port),
        uid: r.uid,
        inode: r.inode as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn finds_a_listening_socket_with_its_address_owner_and_inode() {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let v6 = std::net::TcpListener::bind("[::1]:0").ok();
        let all = listening_tcp().unwrap();
        let inode_of = |l: &std::net::TcpListener| {
            std::fs::metadata(format!("/proc/self/fd/{}", l.as_raw_fd()))
                .unwrap()
                .ino()
        };
        let want = Listener {
            addr: v4.local_addr().unwrap(),
            // SAFETY: getuid has no preconditions.
            uid: unsafe { libc::getuid() },
            inode: inode_of(&v4),
        };
        assert!(all.contains(&want), "{want:?} not in {all:?}");
        if let Some(v6) = v6 {
            let addr = v6.local_addr().unwrap();
            assert!(
                all.iter()
                    .any(|l| l.addr == addr && l.inode == inode_of(&v6)),
                "{addr} not in {all:?}"
            );
        }
        // A connected socket is not listening.
        let _client = std::net::TcpStream::connect(v4.local_addr().unwrap()).unwrap();
        let again = listening_tcp().unwrap();
        assert_eq!(
            again
                .iter()
                .filter(|l| l.addr.port() == want.addr.port())
                .count(),
            1
        );
    }
}
