// Job files that run a study's shards (shards.h) on a cluster, as `pitlane study CONFIG --emit
// slurm|k8s --shards N` writes them:
//
//   slurm  RUN/slurm.sh: `bash RUN/slurm.sh` submits a prepare job (the shared stages), a job
//          array of N shards after it (--dependency=afterok) and the merge after every shard
//          (--dependency=afterok); `bash RUN/slurm.sh retry I` resubmits shard I and the merge.
//          The same file is the batch script of the three jobs (its first argument says which).
//   k8s    RUN/k8s.yaml: a prepare Job, an Indexed Job of N shards (completionMode: Indexed,
//          each pod's shard from JOB_COMPLETION_INDEX) and the merge Job, each labelled
//          pitlane/role=prepare|shards|merge to be applied in that order (the header says how).
//
//   ClusterJobs jobs{.pitlane = "/opt/pitlane/build/pitlane", .workdir = "/home/me/pitlane",
//                    .config = "configs/default.yaml", .run_dir = "runs/default", ...};
//   std::string script = slurm_script(jobs);
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pitlane::study {

struct ClusterJobs {
  std::string study;                    // the study's name (job names)
  std::filesystem::path pitlane;        // the binary the jobs run (Slurm: an absolute path)
  std::filesystem::path workdir;        // Slurm: where the jobs start (the config's paths resolve)
  std::string config;                   // the config file as the jobs name it
  std::vector<std::string> study_args;  // passed to every `pitlane study` (--name, --timing, ...)
  std::filesystem::path run_dir;        // RUNS_DIR/NAME as the jobs see it
  int shards = 2;
  int cpus = 2;                               // per job
  std::string image = "pitlane:latest";       // Kubernetes: an image that holds pitlane
  std::string volume_claim = "pitlane-work";  // Kubernetes: a ReadWriteMany claim, at /work
};

std::string slurm_script(const ClusterJobs& jobs);
std::string k8s_manifest(const ClusterJobs& jobs);

// Writes RUN/slurm.sh (executable) or RUN/k8s.yaml for `kind` "slurm" or "k8s" into
// `out_dir` and returns its path. InputError for another kind.
std::filesystem::path write_cluster_jobs(const std::string& kind, const ClusterJobs& jobs,
                                         const std::filesystem::path& out_dir);

// `text` as one word of a POSIX shell ('...' with ' written as '\'').
std::string shell_quote(const std::string& text);

}  // namespace pitlane::study
