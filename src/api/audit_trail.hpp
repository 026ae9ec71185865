// audit_trail.hpp: the audit record of one request, as Service and the
// handlers build it (internal to the api module).
//
// Service::handle makes one RequestAudit per request. Handlers name the
// identifiers they touched (resource, value_index); a handler that changes
// something appends the record inside the change's own transaction
// (append_in, from a store or CA CommitHook), as the request will be answered
// if that transaction commits. When the response is ready, finish() writes
// the record of every request whose record did not commit with a change: a
// read, a refused or failed change, a bad request. Those go to the
// ReadBatcher (group commit), except a policy reload's, which commits before
// the answer (durable()).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "access.hpp"
#include "idra/api.hpp"
#include "idra/audit.hpp"
#include "idra/ca.hpp"
#include "idra/store.hpp"

namespace idra::api {

class RequestAudit {
 public:
  // |request|, |sinks| and |store| must outlive this object. The request is
  // audited when sinks.reads is set, it arrived over TLS and it is not
  // /healthz or /readyz.
  RequestAudit(const Request& request, const AuditSinks& sinks, store::Store& store);
  RequestAudit(const RequestAudit&) = delete;
  RequestAudit& operator=(const RequestAudit&) = delete;

  bool enabled() const { return enabled_; }

  // bind says who the request acts for and where its decisions are made;
  // both must stay alive until the handler returns. Before bind (a request
  // refused before authentication) the principal is anonymous.
  void bind(const Principal& principal, const AccessControl& access);
  // resource adds a canonical identifier (handle, prefix, serial) the
  // request touched; value_index a value index it returned.
  void resource(std::string_view id);
  void value_index(std::uint32_t index);
  // durable makes finish() commit the record before the response is sent
  // (for changes that are not LMDB writes: a policy reload).
  void durable() { durable_ = true; }

  // append_in appends the request's record to |view|, the write transaction
  // of the request's change, stamped with |status| and |handle_code| (what
  // the request answers if the transaction commits), the duration so far,
  // the decisions made so far, and |more_resources| after those named by
  // resource(). It may run again (a retried transaction); nothing but the
  // view and this object's note of the status changes.
  void append_in(store::WriteView& view, unsigned status, std::uint32_t handle_code,
                 std::span<const std::string> more_resources = {});
  // ca_hook returns append_in as a CA CommitHook: the certificates' serials
  // (and identifiers not named yet) become resources.
  ca::CommitHook ca_hook(unsigned status);
  // store_hook returns append_in as a store CommitHook (Handle API changes:
  // responseCode 1).
  store::CommitHook store_hook(unsigned status);

  // finish writes the record of |response| unless append_in stamped one
  // with this very status (then it committed with the change). It never
  // throws: a failure to write is reported on stderr.
  void finish(const Response& response);

  // record builds the record as finish would (for tests).
  audit::AuditRecord record(const Response& response) const;

 private:
  audit::AuditRecord base(unsigned status, std::uint32_t handle_code) const;
  // view is the record of |response| by reference to this object, the
  // request and the response (no copy of their strings): what finish
  // encodes. |client| and |action| hold the texts made here (a pseudonym,
  // an action named by route_action) and must outlive the view.
  audit::RecordView view(const Response& response, std::string& client, std::string& action) const;

  const Request& request_;
  const AuditSinks& sinks_;
  store::Store& store_;
  bool enabled_ = false;
  bool durable_ = false;
  std::chrono::steady_clock::time_point started_;
  audit::AuditPrincipal principal_;
  const AccessControl* access_ = nullptr;
  std::vector<std::string> resources_;
  std::vector<std::uint32_t> value_indexes_;
  std::optional<unsigned> appended_status_;
};

// handle_code_of returns the responseCode of a Handle API body (its first
// member, as every Handle response writes it), or 0 for any other body.
std::uint32_t handle_code_of(std::string_view body);

// route_action names a request that no policy decision named: the EST and
// public audit endpoints by what they are, everything else by what went
// wrong ("badRequest", "notFound", "unauthenticated", ...).
std::string route_action(std::string_view path, unsigned status);

}  // namespace idra::api
