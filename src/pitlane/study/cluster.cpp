#include "pitlane/study/cluster.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace pitlane::study {
namespace {

namespace fs = std::filesystem;

// A Kubernetes object name (RFC 1123 label): lower-case letters, digits and '-', at most 63
// characters, starting and ending with a letter or digit.
std::string k8s_name(const std::string& study, const std::string& suffix) {
  std::string name;
  for (char c : study) {
    const auto u = static_cast<unsigned char>(c);
    name += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
  }
  name = name.substr(0, 63 - 8 - 1 - suffix.size());  // "pitlane-" NAME "-" SUFFIX
  while (!name.empty() && name.back() == '-') name.pop_back();
  return "pitlane-" + (name.empty() ? std::string("study") : name) + "-" + suffix;
}

// A YAML (flow) string: JSON's quoting is valid YAML.
std::string yaml_string(const std::string& text) {
  return nlohmann::json(text).dump();
}

std::string words(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "" : " ") + shell_quote(a);
  return out;
}

// One Job of the manifest: its role's label, the command and the resources.
std::string k8s_job(const ClusterJobs& jobs, const std::string& role, const std::string& spec,
                    const std::string& command) {
  const std::string name = k8s_name(jobs.study, role);
  return "apiVersion: batch/v1\n"
         "kind: Job\n"
         "metadata:\n"
         "  name: " +
         name +
         "\n"
         "  labels:\n"
         "    pitlane/role: " +
         role +
         "\n"
         "spec:\n" +
         spec +
         "  template:\n"
         "    metadata:\n"
         "      labels:\n"
         "        pitlane/role: " +
         role +
         "\n"
         "    spec:\n"
         "      restartPolicy: Never\n"
         "      containers:\n"
         "        - name: pitlane\n"
         "          image: " +
         yaml_string(jobs.image) +
         "\n"
         "          workingDir: /work\n"
         "          command: [\"/bin/sh\", \"-c\", " +
         yaml_string(command) +
         "]\n"
         "          resources:\n"
         "            requests:\n"
         "              cpu: \"" +
         std::to_string(jobs.cpus) +
         "\"\n"
         "          volumeMounts:\n"
         "            - name: work\n"
         "              mountPath: /work\n"
         "      volumes:\n"
         "        - name: work\n"
         "          persistentVolumeClaim:\n"
         "            claimName: " +
         yaml_string(jobs.volume_claim) + "\n";
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurm_script(const ClusterJobs& jobs) {
  const std::string n = std::to_string(jobs.shards);
  const std::string job = "pitlane-" + jobs.study;
  std::string s;
  s += "#!/bin/bash\n";
  s += "# The study " + jobs.study + " on Slurm: " + n +
       " shards of `pitlane study` as a job array, after a\n"
       "# prepare job, and `pitlane merge` after every shard. Written by `pitlane study CONFIG "
       "--emit slurm`.\n"
       "#\n"
       "# Submit, from a node that can run sbatch (the run folder must be on a filesystem every "
       "node\n"
       "# mounts, with working flock):\n"
       "#   bash " +
       (jobs.run_dir / "slurm.sh").string() +
       "\n"
       "# It submits three jobs and prints their ids:\n"
       "#   prepare  pitlane study ... --prepare     record, train, dagger: what every shard "
       "shares\n"
       "#   shards   pitlane study ... --shard I/" +
       n + "   --array=0-" + std::to_string(jobs.shards - 1) +
       ", --dependency=afterok:PREPARE\n"
       "#   merge    pitlane merge RUN               --dependency=afterok:SHARDS (every task)\n"
       "# A shard that failed or was killed is resubmitted alone, with a new merge after it (it "
       "reuses\n"
       "# what it finished; scancel the first merge, which waits for a dependency that never "
       "comes):\n"
       "#   bash " +
       (jobs.run_dir / "slurm.sh").string() +
       " retry I [J ...]\n"
       "# Partition, time limit, account: sbatch's variables (SBATCH_PARTITION, SBATCH_TIMELIMIT,\n"
       "# SBATCH_ACCOUNT) or more #SBATCH lines below. Logs: " +
       (jobs.run_dir / "slurm-logs").string() +
       "/.\n"
       "#\n"
       "#SBATCH --job-name=" +
       job +
       "\n"
       "#SBATCH --chdir=" +
       jobs.workdir.string() +
       "\n"
       "#SBATCH --nodes=1\n"
       "#SBATCH --ntasks=1\n"
       "#SBATCH --cpus-per-task=" +
       std::to_string(jobs.cpus) +
       "\n"
       "set -euo pipefail\n"
       "\n"
       "pitlane=" +
       shell_quote(jobs.pitlane.string()) +
       "\n"
       "config=" +
       shell_quote(jobs.config) +
       "\n"
       "study_args=(" +
       words(jobs.study_args) +
       ")\n"
       "run_dir=" +
       shell_quote(jobs.run_dir.string()) +
       "\n"
       "shards=" +
       n +
       "\n"
       "logs=\"$run_dir/slurm-logs\"\n"
       "\n"
       "case \"${1:-submit}\" in\n"
       "  prepare)\n"
       "    exec \"$pitlane\" study \"$config\" \"${study_args[@]}\" --prepare --quiet ;;\n"
       "  shard)\n"
       "    exec \"$pitlane\" study \"$config\" \"${study_args[@]}\" --quiet \\\n"
       "      --shard \"${SLURM_ARRAY_TASK_ID:?a shard runs as a task of the job array}/$shards\" "
       ";;\n"
       "  merge)\n"
       "    exec \"$pitlane\" merge \"$run_dir\" ;;\n"
       "  submit | retry)\n"
       "    self=\"$(readlink -f \"${BASH_SOURCE[0]}\")\"\n"
       "    mkdir -p \"$logs\"\n"
       "    prepare=\"\"\n"
       "    after=()\n"
       "    if [ \"${1:-submit}\" = submit ]; then\n"
       "      prepare=$(sbatch --parsable --job-name=" +
       job +
       "-prepare --output=\"$logs/prepare-%j.out\" \"$self\" prepare)\n"
       "      prepare=${prepare%%;*}\n"
       "      array=\"0-$((shards - 1))\"\n"
       "      after=(--dependency=\"afterok:$prepare\")\n"
       "    else\n"
       "      shift\n"
       "      [ $# -gt 0 ] || { echo \"usage: $0 retry I [J ...]\" >&2; exit 2; }\n"
       "      for i in \"$@\"; do\n"
       "        [[ \"$i\" =~ ^[0-9]+$ && \"$i\" -lt \"$shards\" ]] ||\n"
       "          { echo \"$0: retry $i: not a shard of 0..$((shards - 1))\" >&2; exit 2; }\n"
       "      done\n"
       "      array=$(IFS=,; echo \"$*\")\n"
       "    fi\n"
       "    shard_job=$(sbatch --parsable --job-name=" +
       job +
       "-shard --array=\"$array\" \"${after[@]}\" \\\n"
       "      --output=\"$logs/shard-%A_%a.out\" \"$self\" shard)\n"
       "    shard_job=${shard_job%%;*}\n"
       "    merge=$(sbatch --parsable --job-name=" +
       job +
       "-merge --dependency=\"afterok:$shard_job\" \\\n"
       "      --output=\"$logs/merge-%j.out\" \"$self\" merge)\n"
       "    merge=${merge%%;*}\n"
       "    echo \"prepare=$prepare shards=$shard_job array=$array merge=$merge\"\n"
       "    ;;\n"
       "  *)\n"
       "    echo \"$0: unknown mode '$1'; use submit (the default), retry I..., prepare, shard or "
       "merge\" >&2\n"
       "    exit 2 ;;\n"
       "esac\n";
  return s;
}

std::string k8s_manifest(const ClusterJobs& jobs) {
  const std::string n = std::to_string(jobs.shards);
  const std::string study = "pitlane study " + words({jobs.config});
  const std::string args = jobs.study_args.empty() ? "" : " " + words(jobs.study_args);
  const std::string file = (jobs.run_dir / "k8s.yaml").string();
  std::string m;
  m += "# The study " + jobs.study + " on Kubernetes: a prepare Job (record, train, dagger: what " +
       "every shard\n# shares), " + n +
       " shards of `pitlane study` as an Indexed Job, then `pitlane merge` as a Job.\n"
       "# Written by `pitlane study CONFIG --emit k8s`.\n"
       "#\n"
       "# The image (" +
       jobs.image + ") must hold pitlane on its PATH; the PersistentVolumeClaim " +
       jobs.volume_claim +
       "\n"
       "# (ReadWriteMany, on a filesystem with working flock) is mounted at /work in every pod "
       "and holds\n"
       "# the config, the users' files and runs_dir: the config's relative paths resolve from "
       "/work.\n"
       "# Kubernetes has no dependencies between Jobs: apply them one after the other.\n"
       "#   kubectl apply -f " +
       file + " -l pitlane/role=prepare\n" + "#   kubectl wait --for=condition=complete job/" +
       k8s_name(jobs.study, "prepare") + " --timeout=24h\n" + "#   kubectl apply -f " + file +
       " -l pitlane/role=shards\n" + "#   kubectl wait --for=condition=complete job/" +
       k8s_name(jobs.study, "shards") + " --timeout=24h\n" + "#   kubectl apply -f " + file +
       " -l pitlane/role=merge\n" +
       "# Without the prepare Job the shards still work: the first computes the shared stages "
       "under a lock\n"
       "# while the others wait. A shard that fails is retried alone (backoffLimitPerIndex, "
       "Kubernetes\n"
       "# 1.29+) and reuses the units it finished; the merge refuses (exit 2) while a shard is "
       "missing.\n";
  m += k8s_job(jobs, "prepare", "  backoffLimit: 2\n",
               "exec " + study + args + " --prepare --quiet");
  m += "---\n";
  m += k8s_job(jobs, "shards",
               "  completionMode: Indexed\n"
               "  completions: " +
                   n + "\n  parallelism: " + n +
                   "\n"
                   "  backoffLimitPerIndex: 2\n",
               "exec " + study + args + " --quiet --shard \"$JOB_COMPLETION_INDEX/" + n + "\"");
  m += "---\n";
  m += k8s_job(jobs, "merge", "  backoffLimit: 0\n",
               "exec pitlane merge " + shell_quote(jobs.run_dir.string()));
  return m;
}

fs::path write_cluster_jobs(const std::string& kind, const ClusterJobs& jobs,
                            const fs::path& out_dir) {
  fs::path path;
  if (kind == "slurm") {
    path = out_dir / "slurm.sh";
    write_file_atomic(path, slurm_script(jobs));
    fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
  } else if (kind == "k8s") {
    path = out_dir / "k8s.yaml";
    write_file_atomic(path, k8s_manifest(jobs));
  } else {
    throw InputError("--emit " + kind + ": no such kind; use slurm or k8s");
  }
  return path;
}

}  // namespace pitlane::study
