// bench/bench_util.hpp: what cask_bench and cask_cluster_bench share: the clock, the JSON
// records they print (one flat object per line, read by report.py), medians and
// percentiles, the process's RSS, distinct task arguments, size names ("100k") and the
// comma lists of --case.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace bench_util {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// One output line: {"case": name, ...fields}.
class Record {
 public:
  explicit Record(const std::string& name) { field("case", name); }
  Record& field(const std::string& k, const std::string& v) {
    add_key(k);
    out_ << '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out_ << '\\';
      out_ << c;
    }
    out_ << '"';
    return *this;
  }
  Record& field(const std::string& k, const char* v) { return field(k, std::string(v)); }
  Record& field(const std::string& k, double v) {
    add_key(k);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    out_ << buf;
    return *this;
  }
  Record& field(const std::string& k, long long v) {
    add_key(k);
    out_ << v;
    return *this;
  }
  Record& field(const std::string& k, std::size_t v) { return field(k, static_cast<long long>(v)); }
  Record& field(const std::string& k, int v) { return field(k, static_cast<long long>(v)); }
  Record& field(const std::string& k, bool v) {
    add_key(k);
    out_ << (v ? "true" : "false");
    return *this;
  }
  Record& list(const std::string& k, const std::vector<double>& vs) {
    add_key(k);
    out_ << '[';
    for (std::size_t i = 0; i < vs.size(); ++i) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%.6g", i ? ", " : "", vs[i]);
      out_ << buf;
    }
    out_ << ']';
    return *this;
  }
  void print() {
    std::cout << out_.str() << "}" << std::endl;  // flushed: run.sh tees it as it comes
  }

 private:
  void add_key(const std::string& k) {
    out_ << (first_ ? "{" : ", ") << '"' << k << "\": ";
    first_ = false;
  }
  std::ostringstream out_;
  bool first_ = true;
};

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * double(v.size())));
  return v[i];
}

inline std::size_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

/// Distinct arguments everywhere: keys are pure hashes of (function, args), so reusing
/// an argument could share a computation (Dask's dedup) with a key still being released.
inline int next_arg(int n = 1) {
  static int counter = 0;
  const int first = counter;
  counter += n;
  return first;
}

/// 100000 -> "100k", 1000000 -> "1M".
inline std::string size_name(std::size_t n) {
  if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
  if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

/// "a,b,,c" -> {"a", "b", "c"}.
inline std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace bench_util
