-- Subscribe the change feed's dedicated connection to the channels the database notifies
-- on (feed.rs: CHANNEL, AREAS_CHANNEL, TOKENS_CHANNEL, REGISTERS_CHANNEL, WORK_CHANNEL;
-- migrations 0002, 0005, 0008, 0010, 0017), and name it so that it is told apart in pg_stat_activity.
SET application_name = 'minqing-listen';
LISTEN minqing_events;
LISTEN minqing_areas;
LISTEN minqing_tokens;
LISTEN minqing_registers;
LISTEN minqing_work
