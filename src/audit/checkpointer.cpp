// checkpointer.cpp: signing and storing checkpoints as the log grows.
#include <algorithm>

#include "audit/util.hpp"
#include "idra/audit.hpp"

namespace idra::audit {

namespace {

constexpr std::string_view kLatestKey = "latest_checkpoint";

std::string checkpoint_key(std::uint64_t size) { return "checkpoint:" + util::be64(size); }

}  // namespace

std::optional<std::string> latest_checkpoint(const store::ReadView& view) {
  return view.get(store::Table::audit_state, kLatestKey);
}

std::optional<std::string> checkpoint_at(const store::ReadView& view, std::uint64_t size) {
  return view.get(store::Table::audit_state, checkpoint_key(size));
}

Result<std::unique_ptr<Checkpointer>> Checkpointer::create(store::Store& store, SignerKey key,
                                                           CheckpointerConfig config) {
  // The origin is the first line of a checkpoint: one non-empty line of
  // note text.
  if (config.origin.empty() || !util::valid_utf8(config.origin) ||
      std::any_of(config.origin.begin(), config.origin.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return make_error("checkpoint origin must be one non-empty line of UTF-8 text");
  }
  if (config.min_interval.count() < 0) return make_error("checkpoint interval is negative");
  return std::unique_ptr<Checkpointer>(new Checkpointer(store, std::move(key), std::move(config)));
}

Checkpointer::Checkpointer(store::Store& store, SignerKey key, CheckpointerConfig config)
    : store_(store), key_(std::move(key)), config_(std::move(config)) {}

std::optional<std::string> Checkpointer::latest_checkpoint() const {
  std::optional<std::string> out;
  store_.view([&](const store::ReadView& view) { out = audit::latest_checkpoint(view); });
  return out;
}

Result<std::optional<std::string>> Checkpointer::maybe_checkpoint(
    std::chrono::system_clock::time_point now) {
  {
    std::lock_guard lock(mu_);
    if (last_signed_ && now - *last_signed_ < config_.min_interval) {
      return std::optional<std::string>();
    }
  }
  auto made = checkpoint_now();
  if (made && made->has_value()) {
    std::lock_guard lock(mu_);
    last_signed_ = now;
  }
  return made;
}

Result<std::optional<std::string>> Checkpointer::checkpoint_now() {
  std::lock_guard lock(mu_);
  std::optional<std::string> produced;
  const VerifierKey vkey = key_.verifier();
  auto done = store_.transact([&](store::WriteView& view) -> Result<void> {
    produced.reset();  // this body may run twice
    const std::uint64_t size = tree_size(view);
    std::optional<Checkpoint> previous;
    if (auto note = audit::latest_checkpoint(view)) {
      auto opened = open_checkpoint(*note, vkey, config_.origin);
      if (!opened) {
        return make_error("the latest stored checkpoint does not verify with this key: " +
                          opened.error().message);
      }
      previous = std::move(opened).value();
      if (previous->size > size) {
        return make_error("the latest stored checkpoint (size " + std::to_string(previous->size) +
                          ") is beyond the log (size " + std::to_string(size) + ")");
      }
      if (previous->size == size) return {};
    }
    if (size == 0) return {};
    auto root = root_at(view, size);
    if (!root) return root.error();
    if (previous) {
      // Never sign a fork: the new tree must extend the one signed before.
      auto proof = prove_consistency(view, previous->size, size);
      if (!proof) return proof.error();
      Checkpoint newer{config_.origin, size, *root, {}};
      if (auto ok = check_consistency(previous->size, previous->root, newer, *proof); !ok) {
        return make_error("refusing to sign: the stored tree is not consistent with checkpoint " +
                          std::to_string(previous->size) + ": " + ok.error().message);
      }
    }
    auto note = sign_note(format_checkpoint(Checkpoint{config_.origin, size, *root, {}}), key_);
    if (!note) return note.error();
    view.put(store::Table::audit_state, checkpoint_key(size), *note);
    view.put(store::Table::audit_state, kLatestKey, *note);
    produced = std::move(note).value();
    return {};
  });
  if (!done) return done.error();
  return produced;
}

}  // namespace idra::audit
