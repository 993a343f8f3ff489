// The exported objects checked against the Kubernetes API's OpenAPI schemas, through
// kubernetes-models (its classes validate an object as the API server's schema would).
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Secret, Service } from 'kubernetes-models/v1';
import type { KubeObject } from './kubernetes.js';

const MODELS: Record<string, new (data: never) => { validate(): void }> = { StatefulSet, Deployment, Service, Secret } as never;

/** What the schemas refuse, one line per object; empty when every object is valid. */
export function schemaProblems(objects: readonly KubeObject[]): string[] {
  return objects.flatMap((object) => {
    const Model = MODELS[object.kind];
    if (!Model) return [`${object.kind} ${object.metadata.name}: no schema for this kind`];
    try {
      new Model(object as never).validate();
      return [];
    } catch (error) {
      return [`${object.kind} ${object.metadata.name}: ${(error as Error).message}`];
    }
  });
}
