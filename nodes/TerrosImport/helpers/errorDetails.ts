import type { IBinaryData, IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { downloadSignedFile, terrosApiRequest } from '../transport';

export interface ErrorRecord {
	key: string;
	signedUrl: string;
}

/** The error records of a Get Import Errors answer, tolerant of a missing or odd list. */
export function readErrorRecords(response: IDataObject): ErrorRecord[] {
	const records = Array.isArray(response.records) ? response.records : [];
	return records
		.filter((r): r is IDataObject => typeof r === 'object' && r !== null)
		.map((r) => ({ key: String(r.key ?? ''), signedUrl: String(r.signedUrl ?? '') }));
}

/** Get Import Errors: the import's error records. */
export async function fetchErrorRecords(
	this: IExecuteFunctions,
	importId: string,
	itemIndex: number,
): Promise<ErrorRecord[]> {
	const response = await terrosApiRequest.call(
		this,
		'/import/errors',
		{ importId },
		itemIndex,
		importId,
	);
	return readErrorRecords(response);
}

/** The CSV row number in an error file's key (`…/row-42.json`), if it has one. */
export function rowFromKey(key: string): number | undefined {
	const match = /row-(\d+)/.exec(key);
	return match ? Number(match[1]) : undefined;
}

/** Runs `task` over `inputs` with at most `limit` running at once; results keep input order. */
export async function mapWithConcurrency<T, R>(
	inputs: T[],
	limit: number,
	task: (input: T, index: number) => Promise<R>,
): Promise<R[]> {
	const results = new Array<R>(inputs.length);
	let next = 0;
	let failed = false;
	const worker = async () => {
		while (!failed && next < inputs.length) {
			const index = next++;
			let succeeded = false;
			try {
				results[index] = await task(inputs[index], index);
				succeeded = true;
			} finally {
				// One failure stops the others from starting more work.
				if (!succeeded) failed = true;
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, inputs.length)) }, worker));
	return results;
}

export interface ErrorRow {
	json: IDataObject;
	binary?: IBinaryData;
}

/** Downloads every error file, at most `concurrency` at once, and describes each failed row. */
export async function downloadErrorRows(
	this: IExecuteFunctions,
	importId: string,
	records: ErrorRecord[],
	concurrency: number,
	itemIndex: number,
	attachFiles: boolean,
): Promise<ErrorRow[]> {
	const ctx = { action: 'Download error file', itemIndex, importId };
	const rows = await mapWithConcurrency(records, concurrency, async (record) => {
		const { body, contentType } = await downloadSignedFile.call(this, record.signedUrl, ctx);
		const text = body.toString('utf8');
		let details: unknown = text;
		try {
			details = JSON.parse(text);
		} catch {
			// Not JSON: the text itself is the best description there is.
		}
		const fromFile =
			typeof details === 'object' && details !== null ? (details as IDataObject) : undefined;
		const row = typeof fromFile?.row === 'number' ? fromFile.row : rowFromKey(record.key);
		const reason =
			typeof fromFile?.message === 'string'
				? fromFile.message
				: typeof fromFile?.error === 'string'
					? fromFile.error
					: typeof details === 'string'
						? details.trim().slice(0, 1000)
						: JSON.stringify(details).slice(0, 1000);
		const json: IDataObject = { importId, row: row ?? null, reason, key: record.key };
		if (fromFile) json.details = fromFile;
		const result: ErrorRow = { json };
		if (attachFiles) {
			const fileName = record.key.split('/').pop() || 'error.json';
			result.binary = await this.helpers.prepareBinaryData(body, fileName, contentType);
		}
		return result;
	});
	return rows.sort(
		(a, b) =>
			((a.json.row as number | null) ?? Number.MAX_SAFE_INTEGER) -
			((b.json.row as number | null) ?? Number.MAX_SAFE_INTEGER),
	);
}
