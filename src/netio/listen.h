// Listening sockets for the SMTP and milter front ends. With a pool of event
// loops (netio/io_pool.h) a TCP address gets one listening socket per loop,
// all bound to the same port with SO_REUSEPORT: the kernel deals new
// connections among them, and each is accepted by the loop that will run it,
// so no thread hands a new connection to another. Without a pool, or for a
// unix-domain address, there is one listening socket on the `shared` executor;
// with a pool, what it accepts is moved to the next loop (rehome).
#pragma once

#include <boost/asio.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "netio/io_pool.h"

namespace mailmoat::netio {

using reuse_port = boost::asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Opens, binds and listens; on failure `out` is left empty and the error returned.
// `tcp` says whether the endpoint is an internet one (reuse_address and
// SO_REUSEPORT apply) rather than a unix-domain path.
template <typename Protocol>
boost::system::error_code open_acceptors(const boost::asio::any_io_executor& shared, IoPool* loops,
                                         typename Protocol::endpoint ep, bool tcp,
                                         std::vector<boost::asio::basic_socket_acceptor<Protocol>>& out) {
  out.clear();
  const bool on_loops = tcp && loops;
  const std::size_t n = on_loops ? loops->size() : 1;
  boost::system::error_code ec;
  if (n > 1) {
    // SO_REUSEPORT would let a second mailmoat (same user) share the port and
    // silently take half the connections: a plain bind first fails as it should
    // when anything holds the address.
    boost::asio::basic_socket_acceptor<Protocol> probe(shared);
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(boost::asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (ec) return ec;
  }
  for (std::size_t i = 0; i < n && !ec; ++i) {
    auto& acc = out.emplace_back(on_loops ? loops->executor(i) : shared);
    acc.open(ep.protocol(), ec);
    if (!ec && tcp) acc.set_option(boost::asio::socket_base::reuse_address(true), ec);
    if (!ec && n > 1) acc.set_option(reuse_port(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(boost::asio::socket_base::max_listen_connections, ec);
    // Port 0 asks the system for a port: the other sockets take the one it gave.
    if (!ec && i == 0) ep = acc.local_endpoint(ec);
  }
  if (ec) out.clear();
  return ec;
}

// The same connection on another loop. A pending accept never holds a socket of
// another io_context (destroying the loops in any order stays safe): a lone
// listener accepts on its own loop and the socket moves here afterwards.
template <typename Socket>
Socket rehome(Socket s, const boost::asio::any_io_executor& ex, boost::system::error_code& ec) {
  Socket moved(ex);
  auto protocol = s.local_endpoint(ec).protocol();
  if (ec) return moved;
  auto fd = s.release(ec);
  if (ec) return moved;
  moved.assign(protocol, fd, ec);
  if (ec) ::close(fd);
  return moved;
}

}  // namespace mailmoat::netio
