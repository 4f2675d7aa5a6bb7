// Package exercises is the exercise bank of the built-in course: one folder
// per exercise (exercise.md, starter, solution, hints, known-wrong answers).
// The lab programs the exercises run live in labs/.
package exercises

import "embed"

// FS holds the exercise folders, each at its id.
//
//go:embed fargate-task-definition fargate-roles subnet-sizing cloud-run-concurrency serverless-criteria cost-at-utilisation deployment-sketch lb-rolling-deploy rollback-broken-revision ecs-service-autoscaling cloud-run-canary
var FS embed.FS
