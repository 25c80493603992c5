// Goal: pin down edge cases of elections, membership, snapshots, reads and transfers as scripted
// scenarios (STYLE.md §5.2): every file in raft/testdata/*.txt is a list of commands, each with
// the exact output it must produce. Method: a small interpreter drives the in-test Network; a
// mismatch fails the test and names the file and line. `NDS_REWRITE=1 raft_test` rewrites the
// expected outputs instead (a rewritten file is reviewed like code).
//
// File format: blocks separated by blank lines; '#' lines are comments. A block is one command
// line, a line "----", then the expected output lines. Commands:
//   add-nodes <voters> [learners=N] [pre-vote=false] [check-quorum=false] [lease=N]
//   campaign <id> | tick <id> [n] | tick-all [n] | process | deliver [drop=<from>-<to>,...]
//   stabilize | run <n> (n x tick-all + stabilize, silent) | isolate <id> | partition <id>...
//   heal
//   propose <id> <data> | conf <id> add-voter|add-learner|remove <node>
//   read-index <id> <ctx> | transfer <id> <target> | compact <id> | restart <id>
//   add-node <id> (empty configuration) | raft-state | raft-log <id> | lease <id> | reads <id>
#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "raft/test_network.h"

namespace nds::raft {
namespace {

using testing::Network;

struct Block {
  std::vector<std::string> preamble;  // comments and blank lines before the command
  std::string command;
  std::string expected;
  int line = 0;  // line of the command in the file
};

std::vector<std::string> Split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::vector<Block> Parse(const std::string& path) {
  std::ifstream f(path);
  std::vector<Block> blocks;
  std::vector<std::string> pending;
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (line.empty() || line[0] == '#') {
      pending.push_back(line);
      continue;
    }
    Block b;
    b.preamble = std::move(pending);
    pending.clear();
    b.command = line;
    b.line = n;
    std::getline(f, line);  // "----"
    ++n;
    while (std::getline(f, line) && !line.empty()) {
      ++n;
      b.expected += line + "\n";
    }
    ++n;
    blocks.push_back(std::move(b));
  }
  return blocks;
}

std::string Msgs(const std::vector<Message>& msgs) {
  std::string out;
  for (const Message& m : msgs) out += ToString(m) + "\n";
  return out;
}

class Interpreter {
 public:
  std::string Run(const std::string& command) {
    std::vector<std::string> a = Split(command);
    const std::string& c = a[0];
    auto id = [&](size_t i) { return static_cast<uint64_t>(std::stoull(a.at(i))); };
    if (c == "add-nodes") return AddNodes(a);
    if (!net_) return "error: add-nodes first\n";
    if (c == "campaign") {
      net_->node(id(1)).Campaign();
      return Produced();
    }
    if (c == "tick" || c == "tick-all") {
      int n = a.size() > (c == "tick" ? 2u : 1u) ? std::stoi(a.back()) : 1;
      for (int i = 0; i < n; ++i) {
        if (c == "tick") {
          net_->Tick(id(1));
        } else {
          net_->TickAll();
        }
      }
      return Produced();
    }
    if (c == "process") return Produced();
    if (c == "run") {  // n rounds of: tick every node, then stabilize; prints nothing
      for (int i = 0; i < std::stoi(a.at(1)); ++i) net_->TickAllAndStabilize(1);
      return "ok\n";
    }
    if (c == "deliver") return Deliver(a);
    if (c == "stabilize") return Msgs(net_->Stabilize());
    if (c == "isolate") {
      net_->Isolate(id(1));
      return "ok\n";
    }
    if (c == "partition") {
      std::vector<uint64_t> side;
      for (size_t i = 1; i < a.size(); ++i) side.push_back(id(i));
      net_->Partition(side);
      return "ok\n";
    }
    if (c == "heal") {
      net_->Heal();
      return "ok\n";
    }
    if (c == "propose") return net_->node(id(1)).Propose(a.at(2)).ToString() + "\n";
    if (c == "conf") return Conf(a);
    if (c == "read-index") return net_->node(id(1)).ReadIndex(a.at(2)).ToString() + "\n";
    if (c == "transfer") {
      return net_->node(id(1)).TransferLeadership(NodeId(id(2))).ToString() + "\n";
    }
    if (c == "compact") {
      BasicStatus st = net_->node(id(1)).GetStatus();
      return net_->storage(id(1)).CreateSnapshotAndCompact(st.applied, st.conf_state).ToString() +
             "\n";
    }
    if (c == "restart") {
      net_->Restart(NodeId(id(1)));
      return "ok\n";
    }
    if (c == "add-node") {
      net_->AddNode(NodeId(id(1)), ConfState{});
      return "ok\n";
    }
    if (c == "raft-state") return State();
    if (c == "raft-log") return Log(id(1));
    if (c == "lease") return net_->node(id(1)).HasLeaderLease() ? "lease\n" : "no lease\n";
    if (c == "reads") {
      std::string out;
      for (const ReadState& r : net_->test_node(id(1)).read_states) {
        out += fmt::format("{} at {}\n", r.context, r.index);
      }
      net_->test_node(id(1)).read_states.clear();
      return out.empty() ? "none\n" : out;
    }
    return "error: unknown command " + c + "\n";
  }

 private:
  std::string AddNodes(const std::vector<std::string>& a) {
    size_t voters = std::stoul(a.at(1));
    size_t learners = 0;
    bool pre_vote = true, check_quorum = true;
    int lease = 0;
    for (size_t i = 2; i < a.size(); ++i) {
      if (a[i].rfind("learners=", 0) == 0) learners = std::stoul(a[i].substr(9));
      if (a[i] == "pre-vote=false") pre_vote = false;
      if (a[i] == "check-quorum=false") check_quorum = false;
      if (a[i].rfind("lease=", 0) == 0) lease = std::stoi(a[i].substr(6));
    }
    net_ = std::make_unique<Network>(voters, learners, [=](Config* c) {
      c->pre_vote = pre_vote;
      c->check_quorum = check_quorum;
      c->lease_ticks = lease;
    });
    return "ok\n";
  }

  // Processes every node and prints the messages each sent (including those a cut link drops).
  std::string Produced() {
    std::map<NodeId, size_t> before;
    for (auto& [id, t] : net_->nodes()) before[id] = t.sent.size();
    net_->ProcessAll();
    std::vector<Message> out;
    for (auto& [id, t] : net_->nodes()) {
      out.insert(out.end(), t.sent.begin() + static_cast<std::ptrdiff_t>(before[id]), t.sent.end());
    }
    return out.empty() ? "no messages\n" : Msgs(out);
  }

  std::string Deliver(const std::vector<std::string>& a) {
    std::set<std::pair<uint64_t, uint64_t>> drop;
    for (size_t i = 1; i < a.size(); ++i) {
      if (a[i].rfind("drop=", 0) != 0) continue;
      std::stringstream ss(a[i].substr(5));
      std::string pair;
      while (std::getline(ss, pair, ',')) {
        size_t dash = pair.find('-');
        drop.insert({std::stoull(pair.substr(0, dash)), std::stoull(pair.substr(dash + 1))});
      }
    }
    std::string out;
    std::deque<Message> kept;
    for (Message& m : net_->queue()) {
      if (drop.contains({m.from.value, m.to.value})) {
        out += "dropped " + ToString(m) + "\n";
      } else {
        kept.push_back(std::move(m));
      }
    }
    net_->queue() = std::move(kept);
    out += Msgs(net_->DeliverAll());
    return out.empty() ? "nothing to deliver\n" : out;
  }

  std::string Conf(const std::vector<std::string>& a) {
    ConfChange cc;
    if (a.at(2) == "add-voter") cc.type = ConfChangeType::kAddVoter;
    if (a.at(2) == "add-learner") cc.type = ConfChangeType::kAddLearner;
    if (a.at(2) == "remove") cc.type = ConfChangeType::kRemoveNode;
    cc.node = NodeId(std::stoull(a.at(3)));
    return net_->node(std::stoull(a.at(1))).ProposeConfChange(cc).ToString() + "\n";
  }

  std::string State() {
    std::string out;
    for (auto& [id, t] : net_->nodes()) {
      BasicStatus s = t.node->GetStatus();
      out += fmt::format("{}: {} term={} leader={} commit={} applied={} last={} {}\n", id,
                         RoleName(s.role), s.term, s.leader, s.commit, s.applied, s.last_index,
                         ToString(s.conf_state));
    }
    return out;
  }

  std::string Log(uint64_t id) {
    MemoryStorage& s = net_->storage(id);
    std::string out =
        fmt::format("snapshot {}/{}\n", s.SnapshotMeta().term, s.SnapshotMeta().index);
    auto ents = s.Entries(s.FirstIndex(), s.LastIndex().Next(), UINT64_MAX);
    if (ents.ok()) {
      for (const Entry& e : *ents) out += ToString(e) + "\n";
    }
    return out;
  }

  std::unique_ptr<Network> net_;
};

std::string TestdataDir() { return NDS_RAFT_TESTDATA_DIR; }

TEST(Scenario, AllScriptsProduceTheirRecordedOutput) {
  const bool rewrite = std::getenv("NDS_REWRITE") != nullptr;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(TestdataDir())) {
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << TestdataDir();
  for (const std::string& path : files) {
    std::vector<Block> blocks = Parse(path);
    Interpreter in;
    std::string rewritten;
    for (const Block& b : blocks) {
      std::string got = in.Run(b.command);
      if (!rewrite) {
        EXPECT_EQ(got, b.expected) << path << ":" << b.line << ": " << b.command;
      }
      for (const std::string& p : b.preamble) rewritten += p + "\n";
      rewritten += b.command + "\n----\n" + got + "\n";
    }
    if (rewrite) {
      std::ofstream out(path, std::ios::trunc);
      out << rewritten;
    }
  }
}

}  // namespace
}  // namespace nds::raft
