/** How much of a file is read to check that it is a usable CSV. */
export const HEAD_BYTES = 64 * 1024;

export interface CsvProblem {
	message: string;
	description: string;
}

export interface CsvHead {
	header: string[];
}

const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];

/** Splits the first record of CSV text into fields, honouring quotes; null if it has no end yet. */
function firstRecords(text: string, count: number): { records: string[][]; complete: boolean } {
	const records: string[][] = [];
	let field = '';
	let record: string[] = [];
	let inQuotes = false;
	for (let i = 0; i < text.length; i++) {
		const ch = text[i];
		if (inQuotes) {
			if (ch === '"') {
				if (text[i + 1] === '"') {
					field += '"';
					i++;
				} else inQuotes = false;
			} else field += ch;
		} else if (ch === '"' && field === '') inQuotes = true;
		else if (ch === ',') {
			record.push(field);
			field = '';
		} else if (ch === '\n' || ch === '\r') {
			if (ch === '\r' && text[i + 1] === '\n') i++;
			record.push(field);
			if (!(record.length === 1 && record[0] === '')) records.push(record);
			record = [];
			field = '';
			if (records.length === count) return { records, complete: true };
		} else field += ch;
	}
	if (field !== '' || record.length > 0) {
		record.push(field);
		records.push(record);
	}
	return { records, complete: false };
}

/**
 * Checks the start of a file for the usual signs of a wrong export (empty, a workbook, UTF-16,
 * binary, not UTF-8, another delimiter, no data rows) and returns its header.
 */
export function inspectCsvHead(head: Buffer, totalSize: number): CsvHead | CsvProblem {
	if (totalSize === 0 || head.length === 0) {
		return {
			message: 'The file is empty',
			description: 'Check the node that produced the file: it wrote no bytes.',
		};
	}
	if (ZIP_SIGNATURE.every((byte, i) => head[i] === byte)) {
		return {
			message: 'The file is an Excel workbook or a ZIP archive, not a CSV file',
			description:
				'Export the sheet as "CSV UTF-8 (Comma delimited)", or convert it with the Convert to File node set to CSV.',
		};
	}
	if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
		return {
			message: 'The file is UTF-16 text; Terros reads UTF-8',
			description: 'Save or export the file as "CSV UTF-8".',
		};
	}
	if (head.includes(0)) {
		return {
			message: 'The file holds binary data, not CSV text',
			description: 'Check that the binary property holds the CSV export and not another file.',
		};
	}
	let text: string;
	try {
		// The head may end inside a multi-byte character: stream mode leaves that for later.
		text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
	} catch {
		return {
			message: 'The file is not valid UTF-8 text',
			description:
				'It is probably in a legacy encoding such as Windows-1252. Export it again as "CSV UTF-8".',
		};
	}
	text = text.replace(/^\uFEFF/, '');
	const wholeFile = head.length >= totalSize;
	const { records } = firstRecords(text, 2);
	const header = records[0] ?? [];
	if (header.length <= 1) {
		const line = header[0] ?? '';
		const delimiter = line.includes(';') ? 'semicolons' : line.includes('\t') ? 'tabs' : null;
		if (delimiter) {
			return {
				message: `The file's columns are separated by ${delimiter}; Terros reads comma-separated files`,
				description:
					'Export the file again with commas as the delimiter (in Excel: "CSV UTF-8 (Comma delimited)").',
			};
		}
	}
	if (wholeFile && records.length < 2) {
		return {
			message: 'The file has a header but no data rows',
			description: 'There is nothing to import. Check the export that produced the file.',
		};
	}
	return { header: header.map((name) => name.trim()) };
}

export function isCsvProblem(result: CsvHead | CsvProblem): result is CsvProblem {
	return (result as CsvProblem).message !== undefined;
}
