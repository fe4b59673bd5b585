#include "queue/delivery/maildir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "util/errno_message.h"
#include "util/strings.h"

namespace mailmoat::queue {

namespace {

std::atomic<unsigned> g_counter{0};

bool make_dir(const std::string& d) { return ::mkdir(d.c_str(), 0700) == 0 || errno == EEXIST; }

RecipientResult local_failure(const std::string& what, bool permanent = false) {
  RecipientResult r;
  r.outcome = permanent ? RecipientResult::Outcome::failed : RecipientResult::Outcome::deferred;
  r.reply = (permanent ? "550 5.2.0 " : "451 4.3.0 ") + what + ": " + util::errno_message(errno);
  r.remote = "maildir";
  return r;
}

}  // namespace

std::string maildir_folder(const std::string& base, const std::string& address) {
  std::string name = util::to_lower(address);
  for (char& c : name)
    if (c == '/' || c == '\0') c = '_';
  if (name.empty() || name[0] == '.') name.insert(0, "_");
  return base + "/" + name;
}

RecipientResult deliver_maildir(const std::string& base, const std::string& hostname, const std::string& sender,
                                const std::string& recipient, std::string_view message) {
  std::string folder = maildir_folder(base, recipient);
  if (!make_dir(base) || !make_dir(folder) || !make_dir(folder + "/tmp") || !make_dir(folder + "/new") ||
      !make_dir(folder + "/cur"))
    return local_failure("cannot create maildir " + folder);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  std::string unique = std::to_string(micros / 1000000) + ".M" + std::to_string(micros % 1000000) + "P" +
                       std::to_string(::getpid()) + "Q" + std::to_string(g_counter++) + "." + hostname;
  std::string tmp = folder + "/tmp/" + unique;
  std::string dest = folder + "/new/" + unique;

  std::string data = "Return-Path: <" + sender + ">\nDelivered-To: " + recipient + "\n";
  data.reserve(data.size() + message.size());
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\r' && i + 1 < message.size() && message[i + 1] == '\n') continue;
    data += message[i];
  }
  int fd = ::open(tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return local_failure("cannot create " + tmp);
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = saved;
      return local_failure("cannot write " + tmp);
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
    return local_failure("cannot fsync " + tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), dest.c_str()) != 0) return local_failure("cannot rename into " + folder + "/new");
  int dfd = ::open((folder + "/new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  RecipientResult r;
  r.outcome = RecipientResult::Outcome::delivered;
  r.reply = "250 2.0.0 delivered to maildir " + folder;
  r.remote = "maildir";
  return r;
}

}  // namespace mailmoat::queue
