/**
 * Reads src/db/schema.ts with the TypeScript compiler: for each table named in
 * the `DB` interface, its columns with the type a select returns (Kysely's
 * ColumnType / Generated unwrapped), reduced to a rough kind and nullability.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export type RoughKind = 'string' | 'number' | 'boolean' | 'timestamp' | 'array' | 'json';

export interface DeclaredColumn {
  kind: RoughKind;
  /** undefined when the declared type (unknown) says nothing either way. */
  nullable: boolean | undefined;
}

export const schemaFile = fileURLToPath(new URL('../../src/db/schema.ts', import.meta.url));

export function readDeclaredSchema(file = schemaFile): Map<string, Map<string, DeclaredColumn>> {
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`cannot read ${file}`);
  const dbInterface = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'DB');
  if (!dbInterface) throw new Error('schema.ts declares no DB interface');

  const tables = new Map<string, Map<string, DeclaredColumn>>();
  for (const tableSymbol of checker.getTypeAtLocation(dbInterface).getProperties()) {
    const tableType = checker.getTypeOfSymbolAtLocation(tableSymbol, dbInterface);
    const columns = new Map<string, DeclaredColumn>();
    for (const column of tableType.getProperties()) {
      columns.set(column.name, describe(checker, checker.getTypeOfSymbolAtLocation(column, dbInterface), dbInterface));
    }
    tables.set(tableSymbol.name, columns);
  }
  return tables;
}

/**
 * The parts of the type a select returns: ColumnType<S, I, U> and Generated<S> carry
 * it as `__select__` (also inside a union: `Timestamp | null`).
 */
function selectParts(checker: ts.TypeChecker, type: ts.Type, at: ts.Node): ts.Type[] {
  return (type.isUnion() ? type.types : [type]).flatMap((part) => {
    const select = part.getProperty('__select__');
    return select ? selectParts(checker, checker.getTypeOfSymbolAtLocation(select, at), at) : [part];
  });
}

function describe(checker: ts.TypeChecker, type: ts.Type, at: ts.Node): DeclaredColumn {
  const parts = selectParts(checker, type, at);
  if (parts.some((t) => t.flags & (ts.TypeFlags.Unknown | ts.TypeFlags.Any))) return { kind: 'json', nullable: undefined };
  const nullable = parts.some((t) => t.flags & ts.TypeFlags.Null);
  const kinds = new Set(parts.filter((t) => !(t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined))).map((t) => kindOf(checker, t)));
  // A union of booleans is `true | false`; of string literals, all strings.
  if (kinds.size !== 1) throw new Error(`a column mixes kinds: ${checker.typeToString(type)}`);
  return { kind: [...kinds][0]!, nullable };
}

function kindOf(checker: ts.TypeChecker, type: ts.Type): RoughKind {
  if (type.flags & ts.TypeFlags.StringLike) return 'string';
  if (type.flags & ts.TypeFlags.NumberLike) return 'number';
  if (type.flags & ts.TypeFlags.BooleanLike) return 'boolean';
  if (type.getSymbol()?.name === 'Date') return 'timestamp';
  if (checker.isArrayType(type)) return 'array';
  return 'json';
}
