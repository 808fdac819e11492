#!/bin/bash
# Slurm job script written by `ml-slurm @@{command}` from ml_core.slurm's job_template.sh.
# It survives the wall time: Slurm sends USR1 @@{signal_lead_s} s before the limit, the
# trainer checkpoints and exits with @@{requeue_exit_code}, and this script requeues the job,
# which then resumes the same run directory (ml-train --auto-resume). Every other exit
# status is final: @@{diverged_exit_code} (the loss became NaN) would only diverge again.
# Submitted from git commit @@{git_commit}.
#SBATCH --job-name=@@{job_name}
#SBATCH --output=@@{log_pattern}
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --signal=@@{signal_spec}
@@{resource_lines}

set -uo pipefail  # no -e: the trainer's exit status is examined below

python=@@{python}
trainer=@@{trainer}
# Empty for one process; srun for one process per task (torch.distributed, DDP).
launcher=(@@{launcher})
max_requeues=@@{max_requeues}
requeue_exit_code=@@{requeue_exit_code}
diverged_exit_code=@@{diverged_exit_code}
stage_source=@@{stage_source}
restarts="${SLURM_RESTART_COUNT:-0}"
# Array tasks are requeued one by one: the task's own id, not the whole array's.
if [[ -n "${SLURM_ARRAY_JOB_ID:-}" ]]; then
    requeue_id="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
else
    requeue_id="${SLURM_JOB_ID}"
fi

# >>> trainer arguments (one case per array index for sweeps)
@@{task_selection}
# <<< trainer arguments

# Writes the task's status file (state, restarts, final metrics); never fatal.
record() {
    "$python" -m ml_core.slurm._record "$status_file" "$1" "$run_dir" ${2:+"$2"} \
        || echo "ml-slurm: could not write $status_file" >&2
}

fail() {
    echo "ml-slurm: $1" >&2
    record FAILED 1
    exit 1
}

# Copies every camelyonpatch file once to node-local scratch and checks each copy
# against the md5 of the bytes read from the shared filesystem.
stage_dataset() {
    local source target source_md5 copy_md5
    mkdir -p "$stage_dir" || return 1
    for source in "$stage_source"/camelyonpatch_level_2_split_*; do
        target="$stage_dir/$(basename "$source")"
        [[ -f "$target.md5" ]] && continue  # copied and verified by an earlier start
        source_md5=$(tee "$target.partial" < "$source" | md5sum) || return 1
        copy_md5=$(md5sum < "$target.partial") || return 1
        if [[ "$source_md5" != "$copy_md5" ]]; then
            echo "ml-slurm: copy of $source differs from the original" >&2
            return 1
        fi
        mv "$target.partial" "$target" && echo "$copy_md5" > "$target.md5" || return 1
    done
}

cd @@{workdir} || fail "cannot enter the submission directory"
# One compute thread per allocated core; torch would otherwise size itself to the node.
export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"
@@{module_lines}
if [[ -n "$stage_source" ]]; then
    [[ -n "${TMPDIR:-}" ]] || fail "TMPDIR is not set: staging needs node-local scratch"
    stage_dir="$TMPDIR/ml_core_data"
    echo "ml-slurm: staging $stage_source to $stage_dir"
    stage_dataset || fail "staging the dataset to $stage_dir failed"
    trainer_args+=(--set "data.data_path=$stage_dir")
fi

echo "ml-slurm: job ${requeue_id} start ${restarts} on $(hostname) at $(date -Is)"
record RUNNING

# With srun, $trainer_pid is srun's: it forwards the signals below to every task.
"${launcher[@]}" "$trainer" "${trainer_args[@]}" --auto-resume &
trainer_pid=$!

# A trapped signal makes `wait` return early: forward it, then wait again until the
# trainer has really exited (bash keeps its exit status for the next `wait`).
forwarded=""
interrupted=""
forward() {
    forwarded="$1"
    interrupted=1
    echo "ml-slurm: SIG$1 received, forwarding it to the trainer (pid $trainer_pid)"
    kill -s "$1" "$trainer_pid" 2>/dev/null || true
}
trap 'forward USR1' USR1
trap 'forward TERM' TERM
while true; do
    interrupted=""
    wait "$trainer_pid"
    status=$?
    [[ -n "$interrupted" ]] || break
done
trap - USR1 TERM

# The trainer asked for a requeue, or died of the stop signal we forwarded before it
# had installed its handler: both cases resume from the last checkpoint.
if (( status == requeue_exit_code )) || { [[ -n "$forwarded" ]] && (( status > 128 )); }; then
    if (( restarts >= max_requeues )); then
        echo "ml-slurm: not requeuing: ${restarts} restarts reached max_requeues" >&2
        record FAILED "$status"
        exit "$status"
    fi
    record REQUEUED "$status"
    echo "ml-slurm: trainer exited with ${status}: requeuing ${requeue_id} (restart $((restarts + 1)))"
    if scontrol requeue "$requeue_id"; then
        exit 0  # Slurm queues the job again and restarts this script from the top
    fi
    echo "ml-slurm: scontrol requeue ${requeue_id} failed" >&2
    record FAILED "$status"
    exit "$status"
fi
if (( status == 0 )); then
    record COMPLETED 0
else
    if (( status == diverged_exit_code )); then
        echo "ml-slurm: training diverged (NaN loss): failed, not requeued" >&2
    fi
    record FAILED "$status"
fi
echo "ml-slurm: trainer exited with ${status} at $(date -Is)"
exit "$status"
