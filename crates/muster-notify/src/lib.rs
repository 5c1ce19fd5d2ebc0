//! Notification channels: Slack, Discord, Telegram, Matrix, email over SMTP, a signed generic
//! webhook and PagerDuty. Each channel formats a message apart from sending it.
