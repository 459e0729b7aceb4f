// `roombus admin ...`: one admin API request per invocation, the answer printed as it came.
#include "roombus/cli/admin_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <utility>

#include "admin_client.hpp"
#include "roombus/cli/usage_error.hpp"

namespace roombus::cli {
namespace {

// The file `roombus serve` generates on first start, so that an operator on the same machine
// needs no flag.
std::string read_token_file(const std::filesystem::path& data_dir) {
  std::ifstream in(data_dir / "admin-token");
  std::string token;
  std::getline(in, token);
  return token;
}

}  // namespace

AdminCommand::AdminCommand(CLI::App& app) {
  admin_ = app.add_subcommand("admin", "Manage servers through the admin API");
  admin_->require_subcommand(1);
  admin_->add_option("--url", url_, "Base URL of a running roombus")
      ->envname("ROOMBUS_URL")
      ->capture_default_str();
  admin_->add_option("--admin-token", token_, "Admin token (default: <data-dir>/admin-token)")
      ->envname("ROOMBUS_ADMIN_TOKEN");
  admin_->add_option("--data-dir", data_dir_, "Where to find admin-token")
      ->envname("ROOMBUS_DATA_DIR")
      ->capture_default_str();

  // Each callback only chooses the request: it is built after parsing, once every argument of
  // the subcommand is known.
  auto* list = admin_->add_subcommand("list", "List servers");
  list->callback([this] { make_call_ = [] { return Call{"GET", "/admin/v1/servers", ""}; }; });
  auto* show = admin_->add_subcommand("show", "Show one server");
  show->add_option("id", id_)->required();
  show->callback([this] {
    make_call_ = [this] { return Call{"GET", "/admin/v1/servers/" + std::to_string(id_), ""}; };
  });
  auto* create = admin_->add_subcommand("create", "Register a server (prints its key once)");
  create->add_option("--url", server_url_, "Host name clients use, e.g. meet.example.com")
      ->required();
  create->add_option("--name", name_, "Display name")->required();
  create->add_option("--app-id", app_id_);
  create->add_option("--app-secret", app_secret_);
  create->add_option("--member", members_, "Email or @domain (repeatable)");
  create->add_flag("--allow-clone", allow_clone_, "Allow v1 server/create to clone it");
  create->add_option("--api-key", api_key_, "Import an existing jitsi-admin key");
  create->callback([this] {
    make_call_ = [this] {
      JsonBody body;
      body.string("url", server_url_)
          .string("name", name_)
          .string("app_id", app_id_)
          .string("app_secret", app_secret_)
          .strings("members", members_)
          .boolean("allow_clone", allow_clone_);
      if (!api_key_.empty()) body.string("api_key", api_key_);
      return Call{"POST", "/admin/v1/servers", body.take()};
    };
  });
  auto* update = admin_->add_subcommand("update", "Change a server's fields");
  update->add_option("id", id_)->required();
  update->add_option("--url", server_url_);
  update->add_option("--name", name_);
  update->add_option("--app-id", app_id_);
  update->add_option("--app-secret", app_secret_);
  update->callback([this] {
    make_call_ = [this] {
      JsonBody body;
      for (const auto& [key, value] :
           {std::pair<const char*, const std::string&>{"url", server_url_},
            {"name", name_},
            {"app_id", app_id_},
            {"app_secret", app_secret_}}) {
        if (!value.empty()) body.string(key, value);
      }
      return Call{"PATCH", "/admin/v1/servers/" + std::to_string(id_), body.take()};
    };
  });
  auto* remove = admin_->add_subcommand("delete", "Delete a server");
  remove->add_option("id", id_)->required();
  remove->callback([this] {
    make_call_ = [this] { return Call{"DELETE", "/admin/v1/servers/" + std::to_string(id_), ""}; };
  });
  auto* rotate = admin_->add_subcommand("rotate-key", "Issue a new API key (printed once)");
  rotate->add_option("id", id_)->required();
  rotate->callback([this] {
    make_call_ = [this] {
      return Call{"POST", "/admin/v1/servers/" + std::to_string(id_) + "/rotate-key", ""};
    };
  });
  auto* add_member = admin_->add_subcommand("add-member", "Admit an email or @domain");
  add_member->add_option("id", id_)->required();
  add_member->add_option("member", member_)->required();
  add_member->callback([this] {
    make_call_ = [this] {
      return Call{"POST", "/admin/v1/servers/" + std::to_string(id_) + "/members",
                  JsonBody().string("member", member_).take()};
    };
  });
  auto* remove_member = admin_->add_subcommand("remove-member", "Revoke an email or @domain");
  remove_member->add_option("id", id_)->required();
  remove_member->add_option("member", member_)->required();
  remove_member->callback([this] {
    make_call_ = [this] {
      return Call{"DELETE",
                  "/admin/v1/servers/" + std::to_string(id_) + "/members/" + path_segment(member_),
                  ""};
    };
  });
  auto* set_state = admin_->add_subcommand("state", "Set enabled, cordoned or disabled");
  set_state->add_option("id", id_)->required();
  set_state->add_option("state", state_)
      ->required()
      ->check(CLI::IsMember({"enabled", "cordoned", "disabled"}));
  set_state->callback([this] {
    make_call_ = [this] {
      return Call{"PUT", "/admin/v1/servers/" + std::to_string(id_) + "/state",
                  JsonBody().string("state", state_).take()};
    };
  });
  auto* clone = admin_->add_subcommand("allow-clone", "Allow or forbid cloning (on|off)");
  clone->add_option("id", id_)->required();
  clone->add_option("on_off", allow_)->required()->check(CLI::IsMember({"on", "off"}));
  clone->callback([this] {
    make_call_ = [this] {
      return Call{"PUT", "/admin/v1/servers/" + std::to_string(id_) + "/clone",
                  JsonBody().boolean("allow_clone", allow_ == "on").take()};
    };
  });
}

bool AdminCommand::parsed() const { return admin_->parsed(); }

int AdminCommand::run() {
  if (token_.empty()) token_ = read_token_file(data_dir_);
  if (token_.empty()) {
    throw UsageError(
        "--admin-token/ROOMBUS_ADMIN_TOKEN is required (or --data-dir with an admin-token file)");
  }
  Call call = make_call_();
  HttpReply reply = http_call(url_, call.method, call.path, token_, call.body);
  const bool ok = reply.status >= 200 && reply.status < 300;
  std::fprintf(ok ? stdout : stderr, "%s\n",
               reply.body.empty() ? std::to_string(reply.status).c_str() : reply.body.c_str());
  return ok ? 0 : 1;
}

}  // namespace roombus::cli
