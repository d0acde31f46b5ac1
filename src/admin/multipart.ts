/**
 * Reads a multipart/form-data request (the bank-import page's upload form) into
 * its text fields and files, with limits, so a browser without JavaScript can
 * send a file. Anything else is a 415; a file over the limit is a 413.
 */
import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from '../lib/errors.js';

export interface MultipartForm {
  fields: Record<string, string>;
  files: Record<string, { filename: string; text: string }>;
}

export function readMultipartForm(req: Request, limits: { fileBytes: number; fieldBytes: number }): Promise<MultipartForm> {
  if (!req.is('multipart/form-data')) {
    return Promise.reject(new AppError({ code: 'unsupported_media_type', status: 415, message: 'Send the form as multipart/form-data.' }));
  }
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: limits.fileBytes, fieldSize: limits.fieldBytes, files: 2, fields: 20 } });
    } catch (err) {
      reject(new AppError({ code: 'invalid_request', status: 400, message: `The form cannot be read: ${(err as Error).message}.` }));
      return;
    }
    const form: MultipartForm = { fields: {}, files: {} };
    let failure: AppError | undefined;
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) failure ??= new AppError({ code: 'payload_too_large', status: 413, message: `The field ${name} is too large.` });
      form.fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        failure ??= new AppError({ code: 'payload_too_large', status: 413, message: `The file is larger than ${Math.floor(limits.fileBytes / 1024)} KB.` });
      });
      stream.on('end', () => {
        form.files[name] = { filename: info.filename ?? '', text: Buffer.concat(chunks).toString('utf8') };
      });
    });
    bb.on('error', (err) => reject(new AppError({ code: 'invalid_request', status: 400, message: `The form cannot be read: ${(err as Error).message}.` })));
    bb.on('close', () => (failure ? reject(failure) : resolve(form)));
    req.pipe(bb);
  });
}
