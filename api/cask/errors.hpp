// cask/errors.hpp: the exceptions cask throws.
//
// Every error cask reports derives from cask::Error, so `catch (const cask::Error&)`
// sees them all. A task's own exception is *not* wrapped: in-process, result() rethrows
// exactly what the task threw (same type), as Dask does.
#pragma once

#include <stdexcept>
#include <string>

namespace cask {

/// Base of every error cask itself raises.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The future was cancelled (explicitly, by release, by a cancelled dependency, or by
/// client shutdown) before it produced a value.
class CancelledError : public Error {
 public:
  explicit CancelledError(const std::string& key)
      : Error("cask::CancelledError: " + key) {}
};

/// A bounded wait (result(timeout), wait(..., timeout), get(timeout)) ran out of time.
/// The work being waited for keeps running.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

/// The cluster cannot be reached, or it went away while a call was pending.
class CommError : public Error {
 public:
  using Error::Error;
};

/// A task's exception raised in another process: its type name and message.
class RemoteError : public Error {
 public:
  RemoteError(std::string type_name, const std::string& message)
      : Error(type_name + ": " + message), type_name_(std::move(type_name)) {}
  const std::string& type_name() const noexcept { return type_name_; }

 private:
  std::string type_name_;
};

/// A function or actor type is not registered where it has to run.
class NotRegisteredError : public Error {
 public:
  using Error::Error;
};

/// A value could not be encoded or decoded.
class SerializationError : public Error {
 public:
  using Error::Error;
};

}  // namespace cask
