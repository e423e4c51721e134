//! Alerts as Falco prints them: the text line (`HH:MM:SS.nnnnnnnnn: Priority message`),
//! the JSON object (sorted keys, `output_fields`, `json_include_*`), the end-of-run
//! summary, and the output channels (stdout, file, program, syslog, http), each on its
//! own thread behind a bounded queue.

mod alert;
mod channel;
mod stats;

pub use alert::{Alert, AlertFormat};
pub use channel::{
    Channel, ChannelStats, FileChannel, HttpChannel, HttpSettings, OutputHub, OutputLine, Outputs,
    ProgramChannel, StdoutChannel, SyslogChannel,
};
pub use stats::Stats;
