// The session loops and their listening sockets (netio/io_pool.h, netio/listen.h):
// a connection is accepted by the loop that will run it, the loops share one
// port without letting anything else share it, and a socket accepted on the
// shared loop keeps working on the loop it is moved to.
#include "netio/io_pool.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "netio/listen.h"

namespace mailmoat::netio {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Accepts on `acc` forever; for each connection, records whether the handler ran
// on the loop that owns the acceptor and on which loop.
struct AcceptRecord {
  std::mutex mu;
  std::vector<asio::io_context*> loops;  // IoPool::current() in each accept handler
  int on_own_loop = 0;
  std::vector<std::shared_ptr<tcp::socket>> sockets;  // kept open until the test ends
};

void accept_forever(tcp::acceptor& acc, asio::io_context* own, AcceptRecord& rec) {
  acc.async_accept([&acc, own, &rec](const boost::system::error_code& ec, tcp::socket s) {
    if (ec) return;
    {
      std::lock_guard lock(rec.mu);
      rec.loops.push_back(IoPool::current());
      if (IoPool::current() == own && s.get_executor() == acc.get_executor()) ++rec.on_own_loop;
      rec.sockets.push_back(std::make_shared<tcp::socket>(std::move(s)));
    }
    accept_forever(acc, own, rec);
  });
}

TEST(IoPool, EachLoopAcceptsTheConnectionsItRuns) {
  asio::io_context io;
  IoPool pool(2);
  std::vector<tcp::acceptor> acceptors;
  auto ec = open_acceptors(io.get_executor(), &pool, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), true, acceptors);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(acceptors.size(), 2u);
  const auto port = acceptors[0].local_endpoint().port();
  EXPECT_NE(port, 0);
  EXPECT_EQ(acceptors[1].local_endpoint().port(), port);  // one address, two listening sockets

  // Which loop each acceptor belongs to, found from inside the loop.
  std::vector<asio::io_context*> owner(2, nullptr);
  pool.start();
  for (std::size_t i = 0; i < 2; ++i) {
    std::promise<asio::io_context*> p;
    asio::post(acceptors[i].get_executor(), [&p] { p.set_value(IoPool::current()); });
    owner[i] = p.get_future().get();
    ASSERT_NE(owner[i], nullptr);
  }
  EXPECT_NE(owner[0], owner[1]);

  AcceptRecord rec;
  for (std::size_t i = 0; i < 2; ++i)
    asio::post(acceptors[i].get_executor(), [&, i] { accept_forever(acceptors[i], owner[i], rec); });

  // Forty clients from forty source ports: the kernel spreads them over both sockets.
  asio::io_context client_io;
  std::vector<tcp::socket> clients;
  for (int n = 0; n < 40; ++n) {
    auto& c = clients.emplace_back(client_io);
    c.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(rec.mu);
      if (rec.loops.size() == 40) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard lock(rec.mu);
  ASSERT_EQ(rec.loops.size(), 40u);
  EXPECT_EQ(rec.on_own_loop, 40);  // accepted on, and owned by, the acceptor's own loop
  std::set<asio::io_context*> used(rec.loops.begin(), rec.loops.end());
  EXPECT_EQ(used.size(), 2u);  // all forty on one socket: 2^-39
  pool.stop();
  pool.join();
}

TEST(IoPool, AnAddressInUseIsRefusedEvenWithReusePort) {
  asio::io_context io;
  IoPool pool(2);
  std::vector<tcp::acceptor> first;
  auto ec = open_acceptors(io.get_executor(), &pool, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), true, first);
  ASSERT_FALSE(ec) << ec.message();
  const tcp::endpoint taken(asio::ip::make_address("127.0.0.1"), first[0].local_endpoint().port());

  // A second mailmoat (same user, also SO_REUSEPORT) on that port must fail to start,
  // not take half the connections.
  std::vector<tcp::acceptor> second;
  ec = open_acceptors(io.get_executor(), &pool, taken, true, second);
  EXPECT_EQ(ec, asio::error::address_in_use) << ec.message();
  EXPECT_TRUE(second.empty());

  // A port some other program listens on (without SO_REUSEPORT): the same.
  tcp::acceptor other(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<tcp::acceptor> third;
  ec = open_acceptors(io.get_executor(), &pool, other.local_endpoint(), true, third);
  EXPECT_EQ(ec, asio::error::address_in_use) << ec.message();
  EXPECT_TRUE(third.empty());
}

TEST(IoPool, ASocketMovedToALoopIsServedThere) {
  using stream = asio::generic::stream_protocol;
  asio::io_context io;
  IoPool pool(2);
  char dir_template[] = "/tmp/mailmoat-iopool-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/s.sock";
  std::vector<asio::basic_socket_acceptor<stream>> acceptors;
  auto ec = open_acceptors(io.get_executor(), &pool, stream::endpoint(asio::local::stream_protocol::endpoint(path)), false,
                           acceptors);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(acceptors.size(), 1u);  // a unix-domain listener: one, on the shared loop
  EXPECT_EQ(acceptors[0].get_executor(), asio::any_io_executor(io.get_executor()));
  pool.start();

  asio::local::stream_protocol::socket client(io);
  client.connect(asio::local::stream_protocol::endpoint(path));
  stream::socket accepted = acceptors[0].accept();
  auto target = pool.next();
  stream::socket moved = rehome(std::move(accepted), target, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(moved.get_executor(), target);
  EXPECT_FALSE(accepted.is_open());

  // The moved socket reads on its new loop's thread.
  std::promise<std::pair<std::string, bool>> got;
  std::array<char, 16> buf{};
  moved.async_read_some(asio::buffer(buf), [&](const boost::system::error_code& e, std::size_t n) {
    got.set_value({e ? e.message() : std::string(buf.data(), n), IoPool::current() != nullptr});
  });
  asio::write(client, asio::buffer(std::string("hello")));
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  auto [text, on_loop] = f.get();
  EXPECT_EQ(text, "hello");
  EXPECT_TRUE(on_loop);
  pool.stop();
  pool.join();
  std::filesystem::remove_all(dir_template);
}

}  // namespace
}  // namespace mailmoat::netio
