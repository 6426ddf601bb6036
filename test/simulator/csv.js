'use strict';

/**
 * A streaming RFC 4180 parser: quoted fields may hold commas, quotes and line breaks; records
 * end in LF or CRLF. Text is pushed in pieces of any size and whole records come out.
 */
class CsvParser {
	constructor(onRecord) {
		this.onRecord = onRecord;
		this.field = '';
		this.record = [];
		this.inQuotes = false;
		this.quotePending = false;
		this.afterCr = false;
		this.line = 1;
		this.recordLine = 1;
		this.sawAny = false;
	}

	push(text) {
		for (let i = 0; i < text.length; i++) {
			const ch = text[i];
			this.sawAny = true;
			if (this.inQuotes) {
				if (this.quotePending) {
					this.quotePending = false;
					if (ch === '"') {
						this.field += '"';
						continue;
					}
					this.inQuotes = false;
				} else if (ch === '"') {
					this.quotePending = true;
					continue;
				} else {
					if (ch === '\n') this.line++;
					this.field += ch;
					continue;
				}
			}
			if (this.afterCr) {
				this.afterCr = false;
				if (ch === '\n') continue;
			}
			if (ch === '"' && this.field === '') {
				this.inQuotes = true;
			} else if (ch === ',') {
				this.record.push(this.field);
				this.field = '';
			} else if (ch === '\r' || ch === '\n') {
				this.endRecord();
				this.line++;
				this.recordLine = this.line;
				this.afterCr = ch === '\r';
			} else {
				this.field += ch;
			}
		}
	}

	end() {
		if (this.inQuotes && !this.quotePending) {
			throw new Error(`unterminated quoted field starting on line ${this.recordLine}`);
		}
		if (this.field !== '' || this.record.length > 0) this.endRecord();
	}

	endRecord() {
		this.record.push(this.field);
		const record = this.record;
		this.record = [];
		this.field = '';
		this.inQuotes = false;
		this.quotePending = false;
		// A blank line is not a record.
		if (record.length === 1 && record[0] === '') return;
		this.onRecord(record, this.recordLine);
	}
}

module.exports = { CsvParser };
