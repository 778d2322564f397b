-- A recipient the mail server refused for good (550, 551, 553: no such
-- mailbox, not local, a bad address) is settled for the period too, with the
-- server's reply kept here for the operator: tried again with every claim it
-- would only be refused again. NULL: the email went.
ALTER TABLE digest_emails ADD COLUMN refused TEXT;
