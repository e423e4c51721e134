//! Names of the `syscall` source that falco-rs does not serve but checks, so that rules
//! of that source get Falco's load errors for unknown fields and event types.
//!
//! Names only (no types, no extraction), collected from falcosecurity/libs
//! (`userspace/libsinsp/sinsp_filtercheck_*.cpp` field tables, `driver/event_table.c`
//! event names, `driver/ppm_events_public.h` syscall names), commit 48dfd53cd.
//! Fields of plugins that Falco loads next to the syscall source (the container
//! plugin's `container.*` and `k8s.*`, k8smeta's `k8smeta.*`) are accepted by prefix.

/// libsinsp field names of the syscall source.
pub const FIELDS: [&str; 232] = [
    "evt.abspath",
    "evt.arg",
    "evt.args",
    "evt.around",
    "evt.asynctype",
    "evt.buffer",
    "evt.buflen",
    "evt.buflen.file",
    "evt.buflen.file.in",
    "evt.buflen.file.out",
    "evt.buflen.in",
    "evt.buflen.net",
    "evt.buflen.net.in",
    "evt.buflen.net.out",
    "evt.buflen.out",
    "evt.category",
    "evt.count",
    "evt.count.error",
    "evt.count.error.file",
    "evt.count.error.memory",
    "evt.count.error.net",
    "evt.count.error.other",
    "evt.count.exit",
    "evt.count.procinfo",
    "evt.count.threadinfo",
    "evt.cpu",
    "evt.datetime",
    "evt.datetime.s",
    "evt.deltatime",
    "evt.deltatime.ns",
    "evt.deltatime.s",
    "evt.dir",
    "evt.failed",
    "evt.hostname",
    "evt.info",
    "evt.infra.docker.container.id",
    "evt.infra.docker.container.image",
    "evt.infra.docker.container.name",
    "evt.infra.docker.name",
    "evt.io_dir",
    "evt.is_async",
    "evt.is_io",
    "evt.is_io_read",
    "evt.is_io_write",
    "evt.is_open_create",
    "evt.is_open_exec",
    "evt.is_open_read",
    "evt.is_open_write",
    "evt.is_syslog",
    "evt.is_wait",
    "evt.latency",
    "evt.latency.human",
    "evt.latency.ns",
    "evt.latency.quantized",
    "evt.latency.s",
    "evt.num",
    "evt.outputtime",
    "evt.plugininfo",
    "evt.pluginname",
    "evt.rawarg",
    "evt.rawres",
    "evt.rawtime",
    "evt.rawtime.ns",
    "evt.rawtime.s",
    "evt.reltime",
    "evt.reltime.ns",
    "evt.reltime.s",
    "evt.res",
    "evt.source",
    "evt.time",
    "evt.time.iso8601",
    "evt.time.s",
    "evt.type",
    "evt.type.is",
    "evt.wait_latency",
    "fd.cip",
    "fd.cip.name",
    "fd.cnet",
    "fd.connected",
    "fd.containerdirectory",
    "fd.containername",
    "fd.cport",
    "fd.cproto",
    "fd.dev",
    "fd.dev.major",
    "fd.dev.minor",
    "fd.directory",
    "fd.filename",
    "fd.ino",
    "fd.ip",
    "fd.is_lower_layer",
    "fd.is_server",
    "fd.is_upper_layer",
    "fd.l4proto",
    "fd.lip",
    "fd.lip.name",
    "fd.lnet",
    "fd.lport",
    "fd.lproto",
    "fd.name",
    "fd.name_changed",
    "fd.nameraw",
    "fd.net",
    "fd.num",
    "fd.port",
    "fd.proto",
    "fd.rip",
    "fd.rip.name",
    "fd.rnet",
    "fd.rport",
    "fd.rproto",
    "fd.sip",
    "fd.sip.name",
    "fd.snet",
    "fd.sockfamily",
    "fd.sport",
    "fd.sproto",
    "fd.type",
    "fd.typechar",
    "fd.types",
    "fd.uid",
    "fdlist.cips",
    "fdlist.cports",
    "fdlist.names",
    "fdlist.nums",
    "fdlist.sips",
    "fdlist.sports",
    "fs.path.name",
    "fs.path.nameraw",
    "fs.path.source",
    "fs.path.sourceraw",
    "fs.path.target",
    "fs.path.targetraw",
    "group.gid",
    "group.name",
    "proc.aargs",
    "proc.acmdline",
    "proc.aenv",
    "proc.aexe",
    "proc.aexepath",
    "proc.aname",
    "proc.apid",
    "proc.args",
    "proc.cmdlenargs",
    "proc.cmdline",
    "proc.cmdnargs",
    "proc.cwd",
    "proc.duration",
    "proc.env",
    "proc.exe",
    "proc.exe_ino",
    "proc.exe_ino.ctime",
    "proc.exe_ino.ctime_duration_pidns_start",
    "proc.exe_ino.ctime_duration_proc_start",
    "proc.exe_ino.mtime",
    "proc.exeline",
    "proc.exepath",
    "proc.fdlimit",
    "proc.fdopencount",
    "proc.fdusage",
    "proc.is_exe_from_memfd",
    "proc.is_exe_lower_layer",
    "proc.is_exe_upper_layer",
    "proc.is_exe_writable",
    "proc.is_pgid_leader",
    "proc.is_sid_leader",
    "proc.is_vpgid_leader",
    "proc.loginshellid",
    "proc.name",
    "proc.nchilds",
    "proc.nthreads",
    "proc.pcmdline",
    "proc.pexe",
    "proc.pexepath",
    "proc.pgid",
    "proc.pgid.exe",
    "proc.pgid.exepath",
    "proc.pgid.name",
    "proc.pid",
    "proc.pid.ts",
    "proc.pidns_init_start_ts",
    "proc.pname",
    "proc.ppid",
    "proc.ppid.duration",
    "proc.ppid.ts",
    "proc.pvpid",
    "proc.sid",
    "proc.sid.exe",
    "proc.sid.exepath",
    "proc.sname",
    "proc.stderr.name",
    "proc.stderr.type",
    "proc.stdin.name",
    "proc.stdin.type",
    "proc.stdout.name",
    "proc.stdout.type",
    "proc.tty",
    "proc.vmrss",
    "proc.vmsize",
    "proc.vmswap",
    "proc.vpgid",
    "proc.vpgid.exe",
    "proc.vpgid.exepath",
    "proc.vpgid.name",
    "proc.vpid",
    "syscall.type",
    "thread.cap_effective",
    "thread.cap_inheritable",
    "thread.cap_permitted",
    "thread.cgroup",
    "thread.cgroups",
    "thread.cpu",
    "thread.cpu.system",
    "thread.cpu.user",
    "thread.exectime",
    "thread.ismain",
    "thread.nametid",
    "thread.pfmajor",
    "thread.pfminor",
    "thread.tid",
    "thread.totexectime",
    "thread.vmrss",
    "thread.vmrss.b",
    "thread.vmsize",
    "thread.vmsize.b",
    "thread.vtid",
    "user.homedir",
    "user.loginname",
    "user.loginuid",
    "user.name",
    "user.shell",
    "user.uid",
];

/// Event names (`evt.type` values) of the driver event table.
pub const EVENT_NAMES: [&str; 414] = [
    "accept",
    "accept4",
    "access",
    "action",
    "addr",
    "arg",
    "arg2",
    "arg2_int",
    "arg2_str",
    "arg3",
    "arg4",
    "arg5",
    "args",
    "argument",
    "argv",
    "asyncevent",
    "aux",
    "backlog",
    "bind",
    "bpf",
    "brk",
    "cap_effective",
    "cap_inheritable",
    "cap_permitted",
    "capset",
    "cgroups",
    "chdir",
    "chmod",
    "chown",
    "chroot",
    "clockid",
    "clone",
    "clone3",
    "close",
    "close_range",
    "cmd",
    "comm",
    "connect",
    "container",
    "container_id",
    "copy_file_range",
    "core",
    "cpu",
    "cpu_hotplug",
    "cpu_sys",
    "cpu_usr",
    "cq_entries",
    "creat",
    "creat_flags",
    "cur",
    "cwd",
    "data",
    "delete_module",
    "desc",
    "description",
    "dev",
    "dir",
    "dirfd",
    "domain",
    "dpid",
    "dqb_bhardlimit",
    "dqb_bsoftlimit",
    "dqb_btime",
    "dqb_curspace",
    "dqb_ihardlimit",
    "dqb_isoftlimit",
    "dqb_itime",
    "dqi_bgrace",
    "dqi_flags",
    "dqi_igrace",
    "drop",
    "dup",
    "dup2",
    "dup3",
    "egid",
    "entries",
    "env",
    "epoll_create",
    "epoll_create1",
    "epoll_wait",
    "error",
    "euid",
    "event_data",
    "event_type",
    "eventfd",
    "eventfd2",
    "exe",
    "exe_ino",
    "exe_ino_ctime",
    "exe_ino_mtime",
    "exe_ino_num",
    "execve",
    "execveat",
    "exepath",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchownat",
    "fcntl",
    "fd",
    "fd1",
    "fd2",
    "fd_in",
    "fd_out",
    "fd_type",
    "fdin",
    "fdlimit",
    "fdout",
    "fds",
    "features",
    "filename",
    "finit_module",
    "first",
    "flags",
    "flock",
    "fork",
    "fsconfig",
    "fstat",
    "fstat64",
    "futex",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "geteuid",
    "getgid",
    "getpeername",
    "getresgid",
    "getresuid",
    "getrlimit",
    "getsockname",
    "getsockopt",
    "getuid",
    "gid",
    "groupadded",
    "groupdeleted",
    "home",
    "how",
    "id",
    "image",
    "img",
    "in_fd",
    "infra",
    "init_module",
    "initval",
    "ino",
    "ino_num",
    "inotify_init",
    "inotify_init1",
    "interval",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioctl",
    "ip",
    "json",
    "k8s",
    "key",
    "keyctl",
    "kill",
    "last",
    "lchown",
    "len",
    "length",
    "level",
    "link",
    "linkat",
    "linkdirfd",
    "linkpath",
    "listen",
    "llseek",
    "local_ip",
    "local_port",
    "loginuid",
    "lseek",
    "lstat",
    "lstat64",
    "mask",
    "max",
    "maxevents",
    "memfd_create",
    "mesos",
    "min_complete",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mnt_id",
    "mode",
    "mount",
    "mountfd",
    "mprotect",
    "msgcontrol",
    "munlock",
    "munlockall",
    "munmap",
    "name",
    "nanosleep",
    "newcur",
    "newdir",
    "newdirfd",
    "newfd",
    "newfstatat",
    "newmax",
    "newpath",
    "next",
    "notification",
    "nr_args",
    "nsems",
    "nsops",
    "nstype",
    "offin",
    "offout",
    "offset",
    "oldcur",
    "olddir",
    "olddirfd",
    "oldfd",
    "oldmax",
    "oldpath",
    "op",
    "opcode",
    "open",
    "open_by_handle_at",
    "openat",
    "openat2",
    "operation",
    "option",
    "optlen",
    "optname",
    "out_fd",
    "page_fault",
    "path",
    "pathname",
    "peer",
    "pgft_maj",
    "pgft_min",
    "pgid",
    "pgoffset",
    "pid",
    "pid_fd",
    "pidfd_getfd",
    "pidfd_open",
    "pidns_init_start_ts",
    "pipe",
    "pipe2",
    "plugin_id",
    "pluginevent",
    "poll",
    "pos",
    "ppid",
    "ppoll",
    "prctl",
    "pread",
    "preadv",
    "prlimit",
    "process_vm_readv",
    "process_vm_writev",
    "procexit",
    "procinfo",
    "prot",
    "proto",
    "ptid",
    "ptrace",
    "pwrite",
    "pwritev",
    "queuelen",
    "queuemax",
    "queuepct",
    "quota_fmt",
    "quota_fmt_out",
    "quotactl",
    "quotafilepath",
    "ratio",
    "read",
    "readv",
    "reaper_tid",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmsg",
    "remote_ip",
    "remote_port",
    "rename",
    "renameat",
    "renameat2",
    "request",
    "res",
    "res_or_fd",
    "resolve",
    "resource",
    "ret",
    "rgid",
    "rmdir",
    "root",
    "ruid",
    "scapevent",
    "scope",
    "seccomp",
    "select",
    "sem_flg_0",
    "sem_flg_1",
    "sem_num_0",
    "sem_num_1",
    "sem_op_0",
    "sem_op_1",
    "semctl",
    "semflg",
    "semget",
    "semid",
    "semnum",
    "semop",
    "send",
    "sendfile",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setgid",
    "setns",
    "setpgid",
    "setregid",
    "setresgid",
    "setresuid",
    "setreuid",
    "setrlimit",
    "setsid",
    "setsockopt",
    "setuid",
    "sgid",
    "shell",
    "shutdown",
    "sid",
    "sig",
    "sigmask",
    "signaldeliver",
    "signalfd",
    "signalfd4",
    "size",
    "sk_pointer",
    "sk_proto",
    "sk_type",
    "socket",
    "socketpair",
    "source",
    "special",
    "spid",
    "splice",
    "sq_entries",
    "sq_thread_cpu",
    "sq_thread_idle",
    "start_time",
    "stat",
    "stat64",
    "status",
    "suid",
    "sun_path",
    "switch",
    "symlink",
    "symlinkat",
    "syscall",
    "tags",
    "target",
    "target_fd",
    "task",
    "task_file_anon_inode",
    "task_file_directory",
    "task_file_memfd",
    "task_file_pipe",
    "task_file_regular",
    "task_file_socket_inet",
    "task_file_socket_inet6",
    "task_file_socket_netlink",
    "task_file_socket_unix",
    "tgkill",
    "tid",
    "timeout",
    "timerfd_create",
    "tkill",
    "to_submit",
    "tracer",
    "trusted_exepath",
    "tty",
    "tuple",
    "type",
    "uargs",
    "uid",
    "umount",
    "umount2",
    "unlink",
    "unlinkat",
    "unshare",
    "useradded",
    "userdeleted",
    "userfaultfd",
    "val",
    "value_bytebuf",
    "value_charbuf",
    "vfork",
    "vm_rss",
    "vm_size",
    "vm_swap",
    "vpgid",
    "vpid",
    "vtgid",
    "vtid",
    "whence",
    "write",
    "writev",
];

/// Syscall names (`evt.type` values of generic syscall events).
pub const SYSCALL_NAMES: [&str; 453] = [
    "_llseek",
    "_newselect",
    "_sysctl",
    "accept",
    "accept4",
    "access",
    "acct",
    "add_key",
    "adjtimex",
    "alarm",
    "arch_prctl",
    "bdflush",
    "bind",
    "bpf",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chroot",
    "clock_adjtime",
    "clock_getres",
    "clock_gettime",
    "clock_nanosleep",
    "clock_settime",
    "clone",
    "clone3",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "create_module",
    "delete_module",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fallocate",
    "fanotify_init",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "file_getattr",
    "file_setattr",
    "finit_module",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsconfig",
    "fsetxattr",
    "fsmount",
    "fsopen",
    "fspick",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "futex",
    "futex_requeue",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "get_kernel_syms",
    "get_mempolicy",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getpmsg",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "getxattrat",
    "idle",
    "init_module",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_setup",
    "io_submit",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioctl",
    "ioperm",
    "iopl",
    "ioprio_get",
    "ioprio_set",
    "ipc",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listmount",
    "listns",
    "listxattr",
    "listxattrat",
    "llistxattr",
    "lookup_dcookie",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lsm_get_self_attr",
    "lsm_list_modules",
    "lsm_set_self_attr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "mbind",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "migrate_pages",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "modify_ldt",
    "mount",
    "mount_setattr",
    "move_mount",
    "move_pages",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedsend",
    "mq_unlink",
    "mremap",
    "mseal",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "multiplexer",
    "munlock",
    "munlockall",
    "munmap",
    "na_1",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "nfsservctl",
    "nice",
    "oldfstat",
    "oldlstat",
    "oldolduname",
    "oldstat",
    "olduname",
    "open",
    "open_by_handle_at",
    "open_tree",
    "open_tree_attr",
    "openat",
    "openat2",
    "page_fault_kernel",
    "page_fault_user",
    "pause",
    "pciconfig_iobase",
    "pciconfig_read",
    "pciconfig_write",
    "perf_event_open",
    "personality",
    "pidfd_getfd",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pivot_root",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_madvise",
    "process_mrelease",
    "process_vm_readv",
    "process_vm_writev",
    "pselect6",
    "ptrace",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "query_module",
    "quotactl",
    "quotactl_fd",
    "read",
    "readahead",
    "readdir",
    "readlink",
    "readlinkat",
    "readv",
    "reboot",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "removexattrat",
    "rename",
    "renameat",
    "renameat2",
    "request_key",
    "restart_syscall",
    "riscv_flush_icache",
    "riscv_hwprobe",
    "rmdir",
    "rseq",
    "rseq_slice_yield",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_tgsigqueueinfo",
    "rtas",
    "s390_guarded_storage",
    "s390_pci_mmio_read",
    "s390_pci_mmio_write",
    "s390_runtime_instr",
    "s390_sthyi",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_process_exit",
    "sched_rr_get_interval",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_switch",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "set_mempolicy",
    "set_mempolicy_home_node",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setdomainname",
    "setfsgid",
    "setfsuid",
    "setgid",
    "setgid32",
    "setgroups",
    "sethostname",
    "setitimer",
    "setns",
    "setpgid",
    "setpriority",
    "setregid",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setrlimit",
    "setsid",
    "setsockopt",
    "settimeofday",
    "setuid",
    "setuid32",
    "setxattr",
    "setxattrat",
    "sgetmask",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaction",
    "sigaltstack",
    "signal",
    "signal_deliver",
    "signalfd",
    "signalfd4",
    "sigpending",
    "sigprocmask",
    "sigreturn",
    "sigsuspend",
    "socket",
    "socketcall",
    "socketpair",
    "splice",
    "spu_create",
    "spu_run",
    "ssetmask",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statmount",
    "statx",
    "stime",
    "subpage_prot",
    "swapcontext",
    "swapoff",
    "swapon",
    "switch_endian",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "sync_file_range2",
    "syncfs",
    "sys_debug_setcontext",
    "sysfs",
    "sysinfo",
    "syslog",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_settime",
    "timerfd",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_settime",
    "times",
    "tkill",
    "truncate",
    "ugetrlimit",
    "umask",
    "umount",
    "umount2",
    "uname",
    "unlink",
    "unlinkat",
    "unshare",
    "uprobe",
    "uretprobe",
    "uselib",
    "userfaultfd",
    "ustat",
    "utime",
    "utimensat",
    "utimes",
    "vfork",
    "vhangup",
    "vm86",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
];

/// Field classes of plugins that serve fields to the syscall source.
pub const PLUGIN_FIELD_PREFIXES: [&str; 3] = ["container.", "k8s.", "k8smeta."];

/// Whether `name` (without `[arg]`) is a field of the syscall source: a libsinsp field,
/// a libsinsp field followed by a dotted argument (`evt.arg.fd`), or a field of the
/// plugins in [`PLUGIN_FIELD_PREFIXES`].
pub fn is_field(name: &str) -> bool {
    if FIELDS.binary_search(&name).is_ok() {
        return true;
    }
    if PLUGIN_FIELD_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return true;
    }
    let mut end = name.len();
    while let Some(dot) = name[..end].rfind('.') {
        if FIELDS.binary_search(&&name[..dot]).is_ok() {
            return true;
        }
        end = dot;
    }
    false
}

/// Whether `name` is an event type of the syscall source (an event or syscall name).
pub fn is_event_type(name: &str) -> bool {
    EVENT_NAMES.binary_search(&name).is_ok() || SYSCALL_NAMES.binary_search(&name).is_ok()
}

/// How many event types a syscall condition can match, computed like libsinsp's
/// `ppm_event_codes` (over event and syscall *names* rather than event codes): checks of
/// `evt.type`/`syscall.type` with `=`, `!=` or `in` restrict the set, `and`/`or` intersect
/// and unite, `not` is pushed down to the leaves, any other check matches every type.
/// Falco warns (`LOAD_NO_EVTTYPE`) when a rule matches more than 100 event codes; one
/// name stands for a few codes, so [`NO_EVTTYPE_THRESHOLD`] applies to names.
pub fn event_type_count(expr: &falco_rs_syntax::Expr) -> usize {
    visit(expr).len()
}

fn visit(expr: &falco_rs_syntax::Expr) -> NameSet {
    let mut v = EvtTypeVisitor {
        inside_negation: false,
        has_codes: false,
        is_evttype_field: false,
        codes: NameSet::all(),
    };
    v.expr(expr);
    v.codes
}

/// More matched event type names than this is Falco's "too many evt.type values".
pub const NO_EVTTYPE_THRESHOLD: usize = 100;

/// Words of a [`NameSet`]: one bit per name of [`all_names`].
const NAME_WORDS: usize = (EVENT_NAMES.len() + SYSCALL_NAMES.len()).div_ceil(64);

/// Event and syscall names, sorted and without repeats: bit `i` of a [`NameSet`] is
/// name `i`.
fn all_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut v: Vec<&'static str> = EVENT_NAMES
            .iter()
            .chain(SYSCALL_NAMES.iter())
            .copied()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// A set of event type names as a bitset over [`all_names`]: the visitor unites,
/// intersects and complements whole sets at every node of a condition, which a bitset
/// does in a few word operations.
#[derive(Clone, Copy, PartialEq, Eq)]
struct NameSet([u64; NAME_WORDS]);

impl NameSet {
    fn empty() -> Self {
        NameSet([0; NAME_WORDS])
    }

    fn all() -> Self {
        let n = all_names().len();
        NameSet(std::array::from_fn(|w| match n.saturating_sub(w * 64) {
            0 => 0,
            bits if bits >= 64 => u64::MAX,
            bits => (1u64 << bits) - 1,
        }))
    }

    /// The known event type names among `names` (unknown names are ignored).
    fn of<'a>(names: impl IntoIterator<Item = &'a String>) -> Self {
        let all = all_names();
        let mut s = Self::empty();
        for n in names {
            if let Ok(i) = all.binary_search(&n.as_str()) {
                s.0[i / 64] |= 1 << (i % 64);
            }
        }
        s
    }

    fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn union(self, o: Self) -> Self {
        NameSet(std::array::from_fn(|i| self.0[i] | o.0[i]))
    }

    fn intersection(self, o: Self) -> Self {
        NameSet(std::array::from_fn(|i| self.0[i] & o.0[i]))
    }

    /// The names of [`all_names`] not in the set.
    fn complement(self) -> Self {
        Self::all().intersection(NameSet(self.0.map(|w| !w)))
    }
}

struct EvtTypeVisitor {
    inside_negation: bool,
    has_codes: bool,
    is_evttype_field: bool,
    codes: NameSet,
}

impl EvtTypeVisitor {
    fn inversion(&mut self) {
        // "Neutral" checks (no event type in them) are not inverted.
        if self.has_codes {
            self.codes = self.codes.complement();
        }
    }

    fn try_inversion(&mut self) {
        if self.inside_negation {
            self.inversion();
        }
    }

    fn conjunction(&mut self, children: &[falco_rs_syntax::Expr]) {
        let mut types = NameSet::all();
        for c in children {
            self.expr(c);
            types = types.intersection(self.codes);
        }
        self.codes = types;
        self.is_evttype_field = false;
    }

    fn disjunction(&mut self, children: &[falco_rs_syntax::Expr]) {
        let mut types = NameSet::empty();
        for c in children {
            self.expr(c);
            types = types.union(self.codes);
        }
        self.codes = types;
        self.is_evttype_field = false;
    }

    fn values(&mut self, names: &[String]) {
        self.has_codes = true;
        self.codes = NameSet::of(names);
        self.is_evttype_field = false;
        self.try_inversion();
    }

    fn operand(&mut self, o: &falco_rs_syntax::Operand) {
        use falco_rs_syntax::Operand;
        match o {
            Operand::Field(f) => {
                self.has_codes = false;
                self.is_evttype_field =
                    (f.name == "evt.type" || f.name == "syscall.type") && f.arg.is_none();
                self.codes = NameSet::all();
                self.try_inversion();
            }
            Operand::Transform { args, .. } | Operand::List(args, _) => {
                for a in args {
                    self.operand(a);
                    // libsinsp refuses evt.type under a transformer; count it as no
                    // restriction.
                    self.is_evttype_field = false;
                }
            }
            Operand::Literal(v, _) => self.values(std::slice::from_ref(v)),
        }
    }

    fn expr(&mut self, e: &falco_rs_syntax::Expr) {
        use falco_rs_syntax::{Expr, Op, Rhs};
        match e {
            Expr::And(c, _) if self.inside_negation => self.disjunction(c),
            Expr::And(c, _) => self.conjunction(c),
            Expr::Or(c, _) if self.inside_negation => self.conjunction(c),
            Expr::Or(c, _) => self.disjunction(c),
            Expr::Not(c, _) => {
                self.codes = NameSet::empty();
                self.inside_negation = !self.inside_negation;
                self.expr(c);
                self.inside_negation = !self.inside_negation;
                self.is_evttype_field = false;
            }
            Expr::Macro(..) => {
                self.has_codes = false;
                self.codes = NameSet::all();
                self.is_evttype_field = false;
                self.try_inversion();
            }
            Expr::Check(c) if c.op == Op::Exists => {
                self.operand(&c.lhs);
                self.has_codes = self.is_evttype_field;
                self.codes = NameSet::all();
                self.is_evttype_field = false;
                self.try_inversion();
            }
            Expr::Check(c) => {
                self.has_codes = false;
                if let Some(all) = evt_num_invariant(c) {
                    self.has_codes = true;
                    self.codes = if all {
                        NameSet::all()
                    } else {
                        NameSet::empty()
                    };
                    self.is_evttype_field = false;
                    self.try_inversion();
                    return;
                }
                if matches!(c.op, Op::Eq | Op::Ne | Op::In) {
                    self.operand(&c.lhs);
                    if self.is_evttype_field {
                        match &c.rhs {
                            Rhs::Value(v, _) => self.values(std::slice::from_ref(v)),
                            Rhs::List(vs, _) | Rhs::Modified(_, vs, _) => self.values(vs),
                            Rhs::None | Rhs::Field(_) => {
                                self.has_codes = false;
                                self.codes = NameSet::all();
                            }
                        }
                        if c.op == Op::Ne {
                            self.inversion();
                        }
                        self.is_evttype_field = false;
                        return;
                    }
                }
                self.codes = NameSet::all();
                self.is_evttype_field = false;
                self.try_inversion();
            }
        }
    }
}

/// libsinsp's `evt.num` invariants (evt.num >= 1): `Some(false)` when the check can
/// never hold, `Some(true)` when it always holds.
fn evt_num_invariant(c: &falco_rs_syntax::Check) -> Option<bool> {
    use falco_rs_syntax::{Op, Operand, Rhs};
    let Operand::Field(f) = &c.lhs else {
        return None;
    };
    if f.name != "evt.num" || f.arg.is_some() {
        return None;
    }
    if c.op == Op::In {
        let Rhs::List(vs, _) = &c.rhs else {
            return None;
        };
        return vs
            .iter()
            .all(|v| v.parse::<u64>() == Ok(0))
            .then_some(false);
    }
    let Rhs::Value(v, _) = &c.rhs else {
        return None;
    };
    let n: u64 = v.parse().ok()?;
    match c.op {
        Op::Eq if n == 0 => Some(false),
        Op::Ne if n == 0 => Some(true),
        Op::Lt if n <= 1 => Some(false),
        Op::Le if n == 0 => Some(false),
        Op::Gt if n == 0 => Some(true),
        Op::Ge if n <= 1 => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for t in [&FIELDS[..], &EVENT_NAMES[..], &SYSCALL_NAMES[..]] {
            assert!(t.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn lookups() {
        assert!(is_field("proc.name"));
        assert!(is_field("evt.arg.fd"));
        assert!(is_field("container.image.repository"));
        assert!(!is_field("proc.nobody"));
        assert!(!is_field("not.exist"));
        assert!(!is_field("not_a_real_field"));
        assert!(is_event_type("open"));
        assert!(is_event_type("execve"));
        assert!(!is_event_type("some_invalid_event"));
    }

    fn types(cond: &str) -> usize {
        event_type_count(&falco_rs_syntax::parse_condition(cond).expect("parses"))
    }

    #[test]
    fn event_type_sets() {
        let all = all_names().len();
        assert!(all > NO_EVTTYPE_THRESHOLD);
        assert_eq!(types("evt.type=execve"), 1);
        assert_eq!(types("evt.type in (execve, open) and proc.name=foo"), 2);
        assert_eq!(types("proc.name=foo"), all);
        assert_eq!(types("evt.type!=execve"), all - 1);
        assert_eq!(types("not evt.type=execve"), all - 1);
        assert_eq!(types("evt.type=execve and not proc.name=foo"), 1);
        assert_eq!(
            types("not evt.type in (execve, open) or evt.type=connect"),
            all - 2
        );
        assert_eq!(types("evt.num=0"), 0);
    }
}
