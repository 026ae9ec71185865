#include "access_log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace idra::http {

namespace {
constexpr std::size_t kMaxPending = std::size_t{64} << 20;

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) return;  // stderr closed: nothing sensible left to do
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}
}  // namespace

void AccessLog::start() {
  std::lock_guard lock(mu_);
  if (writer_.joinable()) return;
  stopping_ = false;
  writer_ = std::thread([this] { run(); });
}

void AccessLog::stop() {
  {
    std::lock_guard lock(mu_);
    if (!writer_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void AccessLog::append(std::string_view line) {
  std::lock_guard lock(mu_);
  if (pending_.size() + line.size() + 1 > kMaxPending) {
    ++dropped_;
    return;
  }
  pending_.append(line);
  pending_.push_back('\n');
}

void AccessLog::run() {
  std::string batch;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
    batch.swap(pending_);
    const std::size_t dropped = dropped_;
    dropped_ = 0;
    const bool last = stopping_;
    lock.unlock();
    if (dropped != 0) {
      batch += "{\"level\":\"warn\",\"msg\":\"access log lines dropped\",\"count\":" + std::to_string(dropped) + "}\n";
    }
    write_all(STDERR_FILENO, batch);
    batch.clear();
    lock.lock();
    if (last && pending_.empty()) return;
  }
}

void json_escape(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size(); ++i) {
    // A run of printable ASCII that needs no escape is copied in one append.
    std::size_t run = i;
    while (run < s.size()) {
      const auto b = static_cast<unsigned char>(s[run]);
      if (b < 0x20 || b >= 0x7f || b == '"' || b == '\\') break;
      ++run;
    }
    if (run != i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      // Copy a well-formed UTF-8 sequence; escape a stray byte.
      std::size_t n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 0;
      bool ok = n != 0 && i + n < s.size();
      for (std::size_t k = 1; ok && k <= n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (ok) {
        out.append(s.substr(i, n + 1));
        i += n;
      } else {
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
    }
  }
}

}  // namespace idra::http
