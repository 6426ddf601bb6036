'use strict';

/**
 * The simulator's own idea of the CSV each entity takes. Terros does not publish its headers;
 * these are documented in test/simulator/README.md and used only to produce realistic per-row
 * errors.
 */

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE = /^\+?[0-9 ()-]{7,20}$/;

const checks = {
	email: (v) => (EMAIL.test(v) ? null : `"${v}" is not a valid email address`),
	phone: (v) => (PHONE.test(v) ? null : `"${v}" is not a valid phone number`),
	date: (v) =>
		Number.isNaN(Date.parse(v)) ? `"${v}" is not a date (use ISO 8601, e.g. 2026-03-01)` : null,
	oneOf: (values) => (v) =>
		values.includes(v) ? null : `"${v}" must be one of ${values.join(', ')}`,
};

const schemas = {
	Account: {
		required: ['name'],
		columns: {
			name: null,
			address: null,
			email: checks.email,
			phone: checks.phone,
			ownerEmail: checks.email,
		},
	},
	Contact: {
		required: ['firstName', 'lastName'],
		columns: {
			firstName: null,
			lastName: null,
			email: checks.email,
			phone: checks.phone,
			accountName: null,
		},
	},
	CalendarEvent: {
		required: ['title', 'startTime', 'ownerEmail'],
		columns: {
			title: null,
			startTime: checks.date,
			endTime: checks.date,
			ownerEmail: checks.email,
			address: null,
		},
		row: (r) =>
			r.endTime && r.startTime && Date.parse(r.endTime) < Date.parse(r.startTime)
				? { column: 'endTime', message: 'endTime is before startTime' }
				: null,
	},
	User: {
		required: ['email', 'firstName', 'lastName'],
		columns: {
			email: checks.email,
			firstName: null,
			lastName: null,
			role: checks.oneOf(['Rep', 'Manager', 'Admin']),
			phone: checks.phone,
		},
	},
	Task: {
		required: ['title', 'assigneeEmail'],
		columns: { title: null, assigneeEmail: checks.email, dueDate: checks.date, notes: null },
	},
	Recruit: {
		required: ['firstName', 'lastName'],
		columns: {
			firstName: null,
			lastName: null,
			email: checks.email,
			phone: checks.phone,
			source: null,
		},
		row: (r) =>
			r.email || r.phone
				? null
				: { column: 'email', message: 'a recruit needs an email or a phone' },
	},
};

/** Checks one row (an object keyed by Terros header) and returns its problems. */
function validateRow(entity, row) {
	const schema = schemas[entity];
	const problems = [];
	for (const column of schema.required) {
		if (!row[column] || row[column].trim() === '') {
			problems.push({ column, message: `${column} is required` });
		}
	}
	for (const [column, check] of Object.entries(schema.columns)) {
		const value = row[column];
		if (check && value !== undefined && value.trim() !== '') {
			const message = check(value.trim());
			if (message) problems.push({ column, message });
		}
	}
	if (schema.row && problems.length === 0) {
		const problem = schema.row(row);
		if (problem) problems.push(problem);
	}
	return problems;
}

module.exports = { schemas, validateRow };
