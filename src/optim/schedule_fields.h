#pragma once
// The visitor through which a schedule lists its saved members: one pass writes them into a state
// dict, one reads a state dict into a list of values (recording missing keys and throwing on bad
// shapes), and once the whole dict checked out, one assigns those values in the same order.

#include <cstdint>
#include <string>
#include <vector>

namespace descent::optim {

class ScheduleFields {
 public:
  virtual ~ScheduleFields() = default;
  virtual void field(const std::string& name, double& value) = 0;
  virtual void field(const std::string& name, std::int64_t& value) = 0;
  virtual void field(const std::string& name, bool& value) = 0;
  virtual void field(const std::string& name, std::string& value) = 0;
  /// fixed_size: the saved list must have the member's current length (per-group lists).
  virtual void field(const std::string& name, std::vector<double>& value, bool fixed_size) = 0;
  virtual void field(const std::string& name, std::vector<std::int64_t>& value) = 0;

  /// Prepended to every key (SequentialLR's "schedulers.<i>.").
  std::string prefix;
};

}  // namespace descent::optim
