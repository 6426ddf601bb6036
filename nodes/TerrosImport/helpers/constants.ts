export const CREDENTIAL_TYPE = 'terrosApi';

export const ENTITIES = ['Account', 'Contact', 'CalendarEvent', 'User', 'Task', 'Recruit'] as const;
export type Entity = (typeof ENTITIES)[number];

export const FINAL_STATUSES = ['Completed', 'Failed'];
export const IMPORT_STATUSES = [
	'New',
	'Uploaded',
	'Queued',
	'Processing',
	'PostProcessing',
	'Completed',
	'Failed',
];

/** The Add Import options of the Terros guide, with the entities each applies to. */
export const IMPORT_OPTION_RULES: Record<
	string,
	{ type: 'boolean' | 'string'; entities: Entity[] }
> = {
	disableGeocoding: {
		type: 'boolean',
		entities: ['Account', 'CalendarEvent', 'Contact', 'Recruit'],
	},
	addMissingUsers: { type: 'boolean', entities: ['Account', 'Contact', 'Recruit', 'User'] },
	createCustomLocations: {
		type: 'boolean',
		entities: ['Account', 'CalendarEvent', 'Contact', 'Recruit'],
	},
	notifyUsers: { type: 'boolean', entities: ['User'] },
	workflowId: { type: 'string', entities: ['Account'] },
};

/** S3 takes at most 5 GB in one PUT. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1000 ** 3;

export const UPLOAD_URL_TTL_MS = 60 * 60 * 1000;
export const REQUEST_TIMEOUT_MS = 30_000;
/** An upload's time allowance on top of sending the file at UPLOAD_MIN_BYTES_PER_SECOND. */
export const UPLOAD_IDLE_TIMEOUT_MS = 120_000;
/** The slowest upload the node waits for: 100 kB/s, so about 14 hours for 5 GB. */
export const UPLOAD_MIN_BYTES_PER_SECOND = 100_000;
export const DOWNLOAD_TIMEOUT_MS = 60_000;
export const DEFAULT_DOWNLOAD_CONCURRENCY = 10;
/**
 * Read size when streaming an upload from n8n's binary store. n8n's default (64 KiB) costs a
 * read, a buffer and a trip through the stream machinery per 64 KiB; 1 MiB reads cut the
 * upload's CPU time by about a quarter at no extra memory worth counting.
 */
export const UPLOAD_READ_CHUNK_BYTES = 1024 * 1024;
export const IMPORT_ID_PATTERN = /^[A-Za-z]+:[A-Za-z0-9_-]+$/;
