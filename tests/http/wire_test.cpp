#include "http/wire.h"

#include <gtest/gtest.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace mailmoat::http {
namespace {

namespace bhttp = boost::beast::http;

// What an HTTP client makes of the bytes: Beast's response parser.
bhttp::response<bhttp::string_body> parse(const std::string& wire, bool head = false) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.skip(head);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(wire), ec);
  if (ec == bhttp::error::need_more) ec = {};
  EXPECT_FALSE(ec) << ec.message();
  if (!parser.is_done()) used += parser.put(boost::asio::buffer(wire.data() + used, wire.size() - used), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(used, wire.size()) << "bytes after the response";
  return parser.release();
}

TEST(HttpWire, RedirectIsOneResponseWithTheListenerFieldsAndALength) {
  Response r;
  r.status = 302;
  r.body = "Redirecting\n";
  r.headers = {{"Location", "https://example.net/a?b=1"}, {"Cache-Control", "no-store"}};
  std::string wire = serialize_response(r, {});
  EXPECT_EQ(wire,
            "HTTP/1.1 302 Found\r\n"
            "Server: mailmoat\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Location: https://example.net/a?b=1\r\n"
            "Cache-Control: no-store\r\n"
            "Content-Length: 12\r\n"
            "\r\n"
            "Redirecting\n");
  auto res = parse(wire);
  EXPECT_EQ(res.result_int(), 302u);
  EXPECT_EQ(res[bhttp::field::location], "https://example.net/a?b=1");
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(res.body(), "Redirecting\n");
}

TEST(HttpWire, AFieldOfTheResponseReplacesTheListenersOfTheSameName) {
  Response r = Response::json(200, "{}");
  r.headers = {{"server", "other"}, {"X-Frame-Options", "DENY"}, {"x-frame-options", "SAMEORIGIN"}};
  auto res = parse(serialize_response(r, {11, true, true}));
  EXPECT_EQ(res[bhttp::field::server], "other");
  EXPECT_EQ(res.count("X-Frame-Options"), 1u);
  EXPECT_EQ(res["X-Frame-Options"], "SAMEORIGIN");
  EXPECT_EQ(res["Strict-Transport-Security"], "max-age=31536000");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
}

TEST(HttpWire, ConnectionFollowsTheVersionAndKeepAlive) {
  Response r = Response::text(200, "ok");
  EXPECT_FALSE(parse(serialize_response(r, {11, false, false})).keep_alive());
  EXPECT_NE(serialize_response(r, {11, false, false}).find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(serialize_response(r, {11, true, false}).find("Connection:"), std::string::npos);
  auto http10 = serialize_response(r, {10, true, false});
  EXPECT_EQ(http10.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_TRUE(parse(http10).keep_alive());
  EXPECT_FALSE(parse(serialize_response(r, {10, false, false})).keep_alive());
}

TEST(HttpWire, ValuesCannotSplitTheResponse) {
  Response r;
  r.status = 302;
  r.headers = {{"Location", "https://example.net/\r\nSet-Cookie: stolen=1\r\n\r\n<html>"}};
  std::string wire = serialize_response(r, {});
  auto res = parse(wire);
  EXPECT_EQ(res.count(bhttp::field::set_cookie), 0u);
  EXPECT_EQ(res[bhttp::field::location], "https://example.net/  Set-Cookie: stolen=1    <html>");
  EXPECT_EQ(res.body(), "");
}

TEST(HttpWire, TheListenerAloneSaysTheLengthAndBodylessStatusesHaveNone) {
  Response r = Response::text(200, "four");
  r.headers = {{"Content-Length", "999"}, {"Transfer-Encoding", "chunked"}, {"Connection", "upgrade"}};
  std::string wire = serialize_response(r, {});
  EXPECT_EQ(wire.find("999"), std::string::npos);
  EXPECT_EQ(wire.find("chunked"), std::string::npos);
  EXPECT_EQ(parse(wire).body(), "four");
  Response none;
  none.status = 204;
  none.body = "ignored";
  std::string empty = serialize_response(none, {});
  EXPECT_EQ(empty.find("Content-Length"), std::string::npos);
  EXPECT_EQ(empty.substr(empty.size() - 4), "\r\n\r\n");
  EXPECT_EQ(parse(empty).result_int(), 204u);
}

}  // namespace
}  // namespace mailmoat::http
