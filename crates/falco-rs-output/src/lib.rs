//! Alerts as Falco prints them: the text line (`HH:MM:SS.nnnnnnnnn: Priority message`),
//! the JSON object (sorted keys, `output_fields`, `json_include_*`), the end-of-run
//! summary, and the stdout and file output channels.

mod alert;
mod channel;
mod stats;
pub mod time;

pub use alert::{Alert, AlertFormat};
pub use channel::{FileOutput, Outputs, StdoutOutput};
pub use stats::Stats;
