#!/usr/bin/python3
"""Fault injectors for tests/integration/fault_test.cpp (loopback only).

  reset-next-hop PORT OUTFILE   an SMTP next hop whose first session is reset
                                (RST) in the middle of the message content; later
                                sessions accept and append each message to OUTFILE
  silent-dns PORT               a UDP DNS server that reads queries and never answers
Both write PORT's readiness by creating OUTFILE/PORT.ready next to them.
"""
import socket
import struct
import sys


def reset_next_hop(port, outfile):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', port))
    srv.listen(16)
    open(outfile + '.ready', 'w').close()
    sessions = 0
    while True:
        conn, _ = srv.accept()
        sessions += 1
        f = conn.makefile('rb')
        conn.sendall(b'220 flaky.example ESMTP\r\n')
        in_data, data = False, b''
        while True:
            line = f.readline()
            if not line:
                break
            if in_data:
                if line == b'.\r\n':
                    with open(outfile, 'ab') as out:
                        out.write(data + b'\x00END\x00\n')
                    conn.sendall(b'250 2.0.0 stored\r\n')
                    in_data, data = False, b''
                    continue
                data += line
                if sessions == 1 and len(data) > 20:
                    # RST, not FIN: the gateway sees a connection reset mid-DATA.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                    break
                continue
            verb = line[:4].upper()
            if verb in (b'EHLO', b'HELO'):
                conn.sendall(b'250-flaky.example\r\n250 PIPELINING\r\n')
            elif verb == b'DATA':
                conn.sendall(b'354 go\r\n')
                in_data = True
            elif verb == b'QUIT':
                conn.sendall(b'221 bye\r\n')
                break
            else:
                conn.sendall(b'250 ok\r\n')
        f.close()
        conn.close()


def silent_dns(port, readyfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', port))
    open(readyfile + '.ready', 'w').close()
    while True:
        s.recvfrom(4096)


if __name__ == '__main__':
    if sys.argv[1] == 'reset-next-hop':
        reset_next_hop(int(sys.argv[2]), sys.argv[3])
    else:
        silent_dns(int(sys.argv[2]), sys.argv[3])
